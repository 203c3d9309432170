"""The leave-request example's handover sign-off: every colleague named to cover gets a task
of their own (a map over `covered_by`), the instance page counts them done, and the leave is
recorded once all have signed, with their answers in item order."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from processes.models import ProcessInstance
from processes.services import definition_publish, instance_start
from processes.statuses import InstanceStatus, TaskState
from tasks.models import Task
from tasks.selectors import inbox_tasks
from tasks.services import task_claim, task_complete
from tests.support.engine import fresh, run_due_jobs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "leave-request.yaml"
pytestmark = pytest.mark.django_db(transaction=True)


def open_tasks(instances) -> list[Task]:
    return list(
        Task.objects.filter(
            instance__in=instances, state__in=(TaskState.OPEN, TaskState.ASSIGNED)
        ).order_by("pk")
    )


def test_leave_request__each_colleague_covering_signs_the_handover(client):
    definition_publish(source=EXAMPLE.read_text(), format="yaml")
    operator = User.objects.create_superuser("operator")
    ann, bob = User.objects.create_user("ann"), User.objects.create_user("bob")
    instance = instance_start(
        definition_key="leave-request",
        variables={
            "employee": "cy",
            "days": 2,
            "first_day": "2026-12-01",
            "covered_by": ["ann", "bob"],
        },
    )
    for _ in range(2):  # the manager's approval, then HR's
        (task,) = open_tasks([instance])
        task = task_claim(task=task, user=operator)
        answer = {f: True for f, spec in task.form.items() if spec["type"] == "boolean"}
        task_complete(task=task, user=operator, variables=answer)
        run_due_jobs()

    children = list(ProcessInstance.objects.filter(parent=instance).order_by("created_at"))
    assert [c.parent_step for c in children] == ["handover_sign_off"] * 2
    tasks = open_tasks(children)
    assert [t.assignee.username for t in tasks] == ["ann", "bob"]
    assert [t.pk for t in inbox_tasks(user=ann, queue="mine")] == [tasks[0].pk]

    client.force_login(operator)
    page = client.get(f"/instances/{instance.pk}/").content.decode()
    assert "0 of 2 done" in page and "2 running" in page

    task_complete(task=tasks[1], user=bob, variables={"covers": True, "handover_notes": "keys"})
    page = client.get(f"/instances/{instance.pk}/").content.decode()
    assert "1 of 2 done" in page
    assert fresh(instance).status == InstanceStatus.RUNNING

    task_complete(task=tasks[0], user=ann, variables={"covers": True})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED, instance.error
    assert instance.variables["handovers"] == [
        {"covers": True},
        {"covers": True, "handover_notes": "keys"},
    ]
    assert "2 of 2 done" in client.get(f"/instances/{instance.pk}/").content.decode()
