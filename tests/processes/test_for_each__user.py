"""A user step with `config.for_each` opens one task per item, assigned through
`${approver}`: "2 of 3 approvers" ends the step at the second approval, the third task is
cancelled and leaves its user's inbox, and `collect` holds the submitted values in item
order; without `complete_when` all must complete; terminating the instance cancels them all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from processes.errors import Conflict
from processes.models import Event, Timer
from processes.services import instance_start, instance_terminate
from processes.services.timers import timers_fire_due
from processes.statuses import InstanceStatus, TaskState, TimerStatus
from tasks.models import Task
from tasks.selectors import inbox_tasks
from tasks.services import task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db

APPROVERS = ["ann", "bob", "cy"]


def publish_approval(key: str, boundary=None, **for_each) -> None:
    config = {"items": "${approvers}", "as": "approver", "collect": "approvals", **for_each}
    publish(
        key,
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "${approver}",
                    "form": {"approved": "boolean", "note": "string"},
                    "for_each": config,
                    **({"boundary": boundary} if boundary else {}),
                },
                "next": ["done"],
            },
            {"id": "done", "type": "end"},
            *([service_step("escalate", "test.mark")] if boundary else []),
        ],
    )


@pytest.fixture
def people() -> dict[str, User]:
    return {name: User.objects.create_user(name) for name in APPROVERS}


def tasks_by_approver(instance) -> dict[str, Task]:
    tasks = Task.objects.filter(instance=instance, step_id="approve").select_related("token")
    return {APPROVERS[task.token.loop_index]: task for task in tasks}


def cancelled_items(instance) -> list[int]:
    """The items whose task the step's TASK_CANCELLED events name."""
    events = Event.objects.filter(instance=instance, step_id="approve", type="TASK_CANCELLED")
    tasks = [Task.objects.get(pk=event.payload["task_id"]) for event in events]
    return sorted(task.token.loop_index for task in tasks)


def approve(task: Task, user: User, note: str) -> None:
    task_complete(task=task, user=user, variables={"approved": True, "note": note})


def inbox(user: User) -> int:
    return inbox_tasks(user=user, queue="mine").count()


def test_for_each_user__one_task_per_item_assigned_through_the_item(people):
    publish_approval("fe-user-open")
    instance = instance_start(definition_key="fe-user-open", variables={"approvers": APPROVERS})

    tasks = tasks_by_approver(instance)
    assert sorted(tasks) == APPROVERS
    for name, task in tasks.items():
        assert task.assignee == people[name]
        assert task.state == TaskState.ASSIGNED
        assert inbox(people[name]) == 1
    started = Event.objects.get(instance=instance, step_id="approve", type="LOOP_STARTED")
    assert started.payload["total"] == 3
    scheduled = Event.objects.filter(instance=instance, step_id="approve", type="TASK_SCHEDULED")
    assert sorted(event.payload["loop_index"] for event in scheduled) == [0, 1, 2]


def test_for_each_user__two_of_three_ends_the_step_and_the_third_task_leaves_the_inbox(people):
    publish_approval("fe-user-two", complete_when="${loop.completed >= 2}")
    instance = instance_start(definition_key="fe-user-two", variables={"approvers": APPROVERS})
    tasks = tasks_by_approver(instance)

    approve(tasks["ann"], people["ann"], "fine")
    assert fresh(instance).status == InstanceStatus.RUNNING
    assert inbox(people["cy"]) == 1
    approve(tasks["bob"], people["bob"], "ok")

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["approvals"] == [
        {"approved": True, "note": "fine"},
        {"approved": True, "note": "ok"},
        None,
    ]
    third = Task.objects.get(pk=tasks["cy"].pk)
    assert third.state == TaskState.CANCELLED
    assert inbox(people["cy"]) == 0
    with pytest.raises(Conflict):
        approve(third, people["cy"], "too late")
    assert cancelled_items(instance) == [2]
    completed = Event.objects.get(instance=instance, step_id="approve", type="LOOP_COMPLETED")
    assert (completed.payload["completed"], completed.payload["total"]) == (2, 3)
    assert completed.payload["cancelled"] == 1
    assert fresh(instance).variables["approvals"][2] is None  # the refused completion left none


def test_for_each_user__collect_follows_item_order_not_completion_order(people):
    publish_approval("fe-user-order", complete_when="${loop.completed >= 2}")
    instance = instance_start(definition_key="fe-user-order", variables={"approvers": APPROVERS})
    tasks = tasks_by_approver(instance)

    approve(tasks["cy"], people["cy"], "third first")
    approve(tasks["ann"], people["ann"], "first second")

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["approvals"] == [
        {"approved": True, "note": "first second"},
        None,
        {"approved": True, "note": "third first"},
    ]
    assert Task.objects.get(pk=tasks["bob"].pk).state == TaskState.CANCELLED
    assert inbox(people["bob"]) == 0


@pytest.mark.parametrize(
    ("complete_when", "needed"),
    [
        ("${loop.completed >= quorum}", 1),
        ("${loop.active <= 1}", 2),
        ("${loop.completed == loop.total and loop.active == 0}", 3),
    ],
    ids=["instance-variable", "active", "total"],
)
def test_for_each_user__complete_when_sees_the_variables_and_the_loop_counts(
    people, complete_when, needed
):
    publish_approval("fe-user-quorum", complete_when=complete_when)
    instance = instance_start(
        definition_key="fe-user-quorum", variables={"approvers": APPROVERS, "quorum": 1}
    )
    tasks = tasks_by_approver(instance)
    for name in APPROVERS[:needed]:
        assert fresh(instance).status == InstanceStatus.RUNNING
        approve(tasks[name], people[name], name)
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["approvals"] == [
        {"approved": True, "note": name} if index < needed else None
        for index, name in enumerate(APPROVERS)
    ]


def test_for_each_user__without_complete_when_every_task_must_complete(people):
    publish_approval("fe-user-all")
    instance = instance_start(definition_key="fe-user-all", variables={"approvers": APPROVERS})
    tasks = tasks_by_approver(instance)

    approve(tasks["bob"], people["bob"], "b")
    approve(tasks["ann"], people["ann"], "a")
    instance = fresh(instance)
    assert instance.status == InstanceStatus.RUNNING
    assert "approvals" not in instance.variables
    assert Task.objects.get(pk=tasks["cy"].pk).state == TaskState.ASSIGNED
    assert inbox(people["cy"]) == 1

    approve(tasks["cy"], people["cy"], "c")
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["approvals"] == [
        {"approved": True, "note": "a"},
        {"approved": True, "note": "b"},
        {"approved": True, "note": "c"},
    ]
    assert "TASK_CANCELLED" not in event_types(instance, "approve")


def test_for_each_user__terminating_the_instance_cancels_every_item_task(people):
    publish_approval("fe-user-terminate")
    instance = instance_start(
        definition_key="fe-user-terminate", variables={"approvers": APPROVERS}
    )
    tasks = tasks_by_approver(instance)
    approve(tasks["ann"], people["ann"], "a")

    instance_terminate(instance=fresh(instance))

    instance = fresh(instance)
    assert instance.status == InstanceStatus.CANCELLED
    states = {name: Task.objects.get(pk=task.pk).state for name, task in tasks.items()}
    assert states == {
        "ann": TaskState.COMPLETED,
        "bob": TaskState.CANCELLED,
        "cy": TaskState.CANCELLED,
    }
    assert [inbox(people[name]) for name in APPROVERS] == [0, 0, 0]
    assert cancelled_items(instance) == [1, 2]


def test_for_each_user__an_interrupting_boundary_timer_belongs_to_the_whole_step(people):
    timer = [{"type": "timer", "duration": "3d", "next": "escalate"}]
    publish_approval("fe-user-timer", boundary=timer)
    instance = instance_start(definition_key="fe-user-timer", variables={"approvers": APPROVERS})
    tasks = tasks_by_approver(instance)
    approve(tasks["ann"], people["ann"], "a")
    assert Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).count() == 1

    Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    assert timers_fire_due() == 1
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["ran_escalate"] is True
    assert "approvals" not in instance.variables
    assert [Task.objects.get(pk=tasks[name].pk).state for name in APPROVERS] == [
        TaskState.COMPLETED,
        TaskState.CANCELLED,
        TaskState.CANCELLED,
    ]
    assert [inbox(people[name]) for name in APPROVERS] == [0, 0, 0]
    assert cancelled_items(instance) == [1, 2]
    assert "LOOP_COMPLETED" not in event_types(instance, "approve")
