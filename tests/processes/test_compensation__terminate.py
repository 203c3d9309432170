"""Terminate with compensation: the instance's other holders are cancelled, it undoes its
completed steps latest first while `running`, then ends `cancelled`."""

import pytest
from django.contrib.auth.models import User

from processes.models import Job
from processes.services import instance_retry, instance_start, instance_terminate
from processes.statuses import TaskState
from tasks.models import Task
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db


def undo(service: str, **config) -> dict:
    name, _, method = service.partition(".")
    return {"service_name": name, "method": method, **config}


def publish_order(key: str = "order", *, refund: dict | None = None) -> None:
    """Two steps with an undo each, then a person's approval that the terminate cancels."""
    refund = refund or undo("test.echo", input={"refunded": True})
    publish(
        key,
        [
            service_step(
                "reserve",
                "test.mark",
                compensation=undo("test.echo", input={"released": True}),
                next=["charge"],
            ),
            service_step("charge", "test.mark", compensation=refund, next=["approve"]),
            {"id": "approve", "type": "user_task", "config": {"assignee": "bob"}, "next": []},
        ],
    )


def compensated(instance) -> list[str]:
    events = fresh(instance).events.filter(type="STEP_COMPENSATED").order_by("id")
    return [event.step_id for event in events]


def test_terminate_with_compensate__cancels_the_task_undoes_latest_first_then_cancels():
    publish_order()
    manager = User.objects.create_superuser("maria")
    instance = instance_start(definition_key="order")
    run_due_jobs()
    assert Task.objects.get(instance=instance).state == TaskState.OPEN

    instance = instance_terminate(instance=fresh(instance), user=manager, compensate=True)
    # Running meanwhile: it still has its compensations to run.
    assert instance.status == "running"
    assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
    [started] = fresh(instance).events.filter(type="COMPENSATION_STARTED")
    assert started.actor == manager and started.payload["steps"] == ["charge", "reserve"]

    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "cancelled" and instance.ended_at is not None
    assert compensated(instance) == ["charge", "reserve"]
    assert instance.variables["refunded"] is True and instance.variables["released"] is True
    [cancelled] = instance.events.filter(type="WORKFLOW_CANCELLED")
    assert cancelled.payload == {"compensated": True}
    assert instance.active_tokens == 0


def test_terminate_with_compensate__with_nothing_done_cancels_at_once():
    publish("plain", [{"id": "approve", "type": "user_task", "config": {"assignee": "bob"}}])
    manager = User.objects.create_superuser("maria")
    instance = instance_start(definition_key="plain")
    instance = instance_terminate(instance=instance, user=manager, compensate=True)
    assert instance.status == "cancelled"
    assert fresh(instance).events.filter(type="COMPENSATION_COMPLETED").count() == 1


def test_terminate_with_compensate__of_a_failed_instance_whose_undo_fails_then_retried():
    publish_order(refund=undo("test.flaky", input={"succeed_on": 2}))
    manager = User.objects.create_superuser("maria")
    instance = instance_start(definition_key="order")
    run_due_jobs()
    instance_terminate(instance=fresh(instance), user=manager, compensate=True)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert (instance.error["error"], instance.error["step_id"]) == ("CompensationFailed", "charge")

    instance_retry(instance=instance, user=manager)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "cancelled"
    assert compensated(instance) == ["charge", "reserve"]
    assert Job.objects.get(step_id="charge", compensates__isnull=False).attempt == 2


def test_terminate_with_compensate__refused_for_an_ended_instance():
    from processes.errors import Conflict

    publish("quick", [service_step("a", "test.mark")])
    manager = User.objects.create_superuser("maria")
    instance = instance_start(definition_key="quick")
    run_due_jobs()
    assert fresh(instance).status == "completed"
    with pytest.raises(Conflict):
        instance_terminate(instance=fresh(instance), user=manager, compensate=True)
