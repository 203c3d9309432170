"""Terminating, suspending or resuming a parent does the same to its running children and
theirs; an interrupting boundary event on the subprocess step terminates the child; a
child's end lost between its commit and the parent's update is applied by the sweeper."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from processes.errors import Conflict
from processes.models import ProcessInstance, Timer
from processes.services import (
    instance_resume,
    instance_start,
    instance_suspend,
    instance_terminate,
    jobs_sweep,
    subprocesses,
)
from processes.services.timers import timers_fire_due
from processes.statuses import InstanceStatus, TaskState
from tasks.models import Task
from tasks.services import task_complete
from tests.processes.test_subprocess__call import call, end
from tests.support.definitions import publish
from tests.support.engine import event_types, fresh

pytestmark = pytest.mark.django_db(transaction=True)


def approve(step_id: str, *, next: list[str] | None = None, **config) -> dict:
    return {
        "id": step_id,
        "type": "user_task",
        "config": {"assignee": "boss", **config},
        "next": next or [],
    }


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_user("boss", is_staff=True, is_superuser=True)


@pytest.fixture
def chain():
    """top -> middle -> leaf, whose user task waits for the boss."""
    publish("leaf", [approve("sign", next=["done"]), end("done")])
    publish("middle", [call("leaf", "leaf", next=["done"]), end("done")])
    publish("top", [call("middle", "middle", next=["after"]), approve("after")])


def family(top) -> tuple[ProcessInstance, ProcessInstance, ProcessInstance]:
    middle = ProcessInstance.objects.get(parent=top)
    return fresh(top), middle, ProcessInstance.objects.get(parent=middle)


def test_terminate__the_parent_cancels_a_grandchilds_task(chain, boss):
    top = instance_start(definition_key="top")
    task = Task.objects.get(instance=family(top)[2])

    instance_terminate(instance=top, user=boss)

    assert [i.status for i in family(top)] == [InstanceStatus.CANCELLED] * 3
    assert Task.objects.get(pk=task.pk).state == TaskState.CANCELLED
    assert not Task.objects.filter(state__in=(TaskState.OPEN, TaskState.ASSIGNED)).exists()


def test_suspend_and_resume__cascade_to_children_and_grandchildren(chain, boss):
    top = instance_start(definition_key="top")
    instance_suspend(instance=top, user=boss)
    assert [i.status for i in family(top)] == [InstanceStatus.SUSPENDED] * 3
    task = Task.objects.get(instance=family(top)[2])
    with pytest.raises(Conflict):
        task_complete(task=task, user=boss, variables={})

    instance_resume(instance=top, user=boss)
    assert [i.status for i in family(top)] == [InstanceStatus.RUNNING] * 3
    task_complete(task=Task.objects.get(pk=task.pk), user=boss, variables={})
    top, middle, leaf = family(top)
    assert (leaf.status, middle.status, top.status) == ("completed", "completed", "running")
    assert Task.objects.filter(instance=top, step_id="after").exists()


def test_resume__applies_a_child_end_that_came_while_the_parent_was_suspended(boss):
    publish("leaf", [approve("sign")])
    publish("top", [call("leaf", "leaf", output={"signed": True}, next=["done"]), end("done")])
    top = instance_start(definition_key="top")
    leaf = ProcessInstance.objects.get(parent=top)
    instance_suspend(instance=top, user=boss)
    instance_resume(instance=leaf, user=boss)  # the child alone runs again and ends
    task_complete(task=Task.objects.get(instance=leaf), user=boss, variables={})
    assert fresh(leaf).status == InstanceStatus.COMPLETED
    assert fresh(top).status == InstanceStatus.SUSPENDED

    instance_resume(instance=top, user=boss)
    assert fresh(top).status == InstanceStatus.COMPLETED
    assert fresh(top).variables == {"signed": True}


def test_boundary_timer__interrupting_the_step_terminates_the_child(boss):
    publish("leaf", [approve("sign")])
    publish(
        "top",
        [
            call(
                "leaf",
                "leaf",
                boundary=[{"type": "timer", "duration": "1h", "next": "late"}],
                next=["done"],
            ),
            end("done"),
            end("late"),
        ],
    )
    top = instance_start(definition_key="top")
    leaf = ProcessInstance.objects.get(parent=top)
    Timer.objects.filter(instance=top).update(due_at=timezone.now() - timedelta(seconds=1))
    timers_fire_due()
    assert fresh(leaf).status == InstanceStatus.CANCELLED
    assert Task.objects.get(instance=leaf).state == TaskState.CANCELLED
    assert fresh(top).status == InstanceStatus.COMPLETED
    assert event_types(top, "late") == []  # an end step records nothing of its own
    assert "TIMER_FIRED" in event_types(top, "leaf")


def test_recovery__the_sweeper_applies_a_child_end_whose_notification_was_lost(boss, monkeypatch):
    publish("leaf", [approve("sign")])
    publish("top", [call("leaf", "leaf", output={"signed": True}, next=["done"]), end("done")])
    top = instance_start(definition_key="top")
    leaf = ProcessInstance.objects.get(parent=top)
    # The process dies between the child's commit and the parent's update: nothing tells
    # the parent.
    monkeypatch.setattr(subprocesses, "child_end_notify", lambda child: None)
    task_complete(task=Task.objects.get(instance=leaf), user=boss, variables={})
    assert fresh(leaf).status == InstanceStatus.COMPLETED
    assert fresh(top).status == InstanceStatus.RUNNING

    jobs_sweep()
    assert fresh(top).status == InstanceStatus.COMPLETED
    assert fresh(top).variables == {"signed": True}
    jobs_sweep()  # once: nothing is applied twice
    assert event_types(top, "leaf").count("TASK_COMPLETED") == 1


@pytest.mark.parametrize("run", range(3))
def test_race__a_child_completing_while_its_parent_is_terminated(boss, run):
    """Neither deadlocks (parent's lock, then the child's, on both sides) nor moves the
    parent on."""
    publish("leaf", [approve("sign")])
    publish("top", [call("leaf", "leaf", next=["after"]), approve("after")])
    top = instance_start(definition_key="top")
    task = Task.objects.get(instance__parent=top)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def in_thread(action) -> None:
        try:
            start.wait()
            action()
        except Conflict:
            pass  # the task's instance was cancelled first
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(
            target=in_thread,
            args=(lambda: task_complete(task=task, user=boss, variables={}),),
        ),
        threading.Thread(
            target=in_thread, args=(lambda: instance_terminate(instance=top, user=boss),)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    jobs_sweep()
    assert fresh(top).status == InstanceStatus.CANCELLED
    assert fresh(ProcessInstance.objects.get(parent=top)).status in (
        InstanceStatus.COMPLETED,
        InstanceStatus.CANCELLED,
    )
    assert not Task.objects.filter(instance=top).exists()  # "after" was never reached
