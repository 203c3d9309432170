"""Interrupting boundary timers in the database: when one fires, the step is cancelled (its
task leaves the inbox, its job is cancelled) and the path goes on at its `next`; a step that
finishes first, a terminate and a suspend each keep it from firing. The sweeper runs
in-process, with due times moved into the past instead of waiting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.errors import Conflict
from processes.models import Event, Job, Timer, Token
from processes.services import (
    instance_resume,
    instance_start,
    instance_suspend,
    instance_terminate,
)
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.services.timers import timers_fire_due
from processes.statuses import JobStatus, TaskState, TimerStatus, TokenStatus
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs


def make_due(instance) -> None:
    Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "pw")


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


def publish_approval(key: str, **boundary) -> None:
    publish(
        key,
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "bob",
                    "boundary": [
                        {"type": "timer", "duration": "3d", "next": "escalate", **boundary}
                    ],
                },
                "next": ["after"],
            },
            service_step("after", "test.mark", next=["end"]),
            service_step("escalate", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


def publish_slow_service(key: str) -> None:
    publish(
        key,
        [
            service_step(
                "charge",
                "test.slow",
                next=["end"],
                boundary=[{"type": "timer", "duration": "10m", "next": "escalate"}],
            ),
            service_step("escalate", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


@pytest.mark.django_db
def test_user_task__entering_schedules_one_timer_per_boundary_linked_to_the_token():
    publish_approval("b-enter")
    before = timezone.now()
    instance = instance_start(definition_key="b-enter")
    timer = Timer.objects.get(instance=instance)
    task = Task.objects.get(instance=instance)
    assert (timer.status, timer.step_id, timer.boundary) == (TimerStatus.SCHEDULED, "approve", 0)
    assert timer.token_id == task.token_id
    assert before + timedelta(days=3) <= timer.due_at <= timezone.now() + timedelta(days=3)
    assert timers_fire_due() == 0


@pytest.mark.django_db
def test_user_task__firing_cancels_the_task_and_continues_at_next():
    publish_approval("b-user")
    instance = instance_start(definition_key="b-user")
    make_due(instance)
    assert timers_fire_due() == 1
    task = Task.objects.get(instance=instance)
    assert task.state == TaskState.CANCELLED
    assert task.token.status == TokenStatus.CANCELLED
    assert not Task.objects.filter(state__in=(TaskState.OPEN, TaskState.ASSIGNED)).exists()
    assert event_types(instance, "approve") == [
        "TASK_SCHEDULED",
        "TIMER_SCHEDULED",
        "TIMER_FIRED",
        "TASK_CANCELLED",
    ]
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"ran_escalate": True}
    assert instance.active_tokens == 0
    assert timers_fire_due() == 0


@pytest.mark.django_db
def test_user_task__cancelled_by_the_timer_cannot_be_completed(bob):
    publish_approval("b-late")
    instance = instance_start(definition_key="b-late")
    task = Task.objects.get(instance=instance)
    task_claim(task=task, user=bob)
    make_due(instance)
    timers_fire_due()
    with pytest.raises(Conflict, match="the task was cancelled"):
        task_complete(task=Task.objects.get(pk=task.pk), user=bob, variables={})
    run_due_jobs()
    assert fresh(instance).variables == {"ran_escalate": True}


@pytest.mark.django_db
def test_slow_service__firing_cancels_the_job_and_its_late_success_changes_nothing():
    publish_slow_service("b-slow")
    instance = instance_start(definition_key="b-slow")
    job = Job.objects.get(step_id="charge")
    lease = job_lease(job_id=job.pk)  # a worker is running it, slowly
    make_due(instance)
    assert timers_fire_due() == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert Event.objects.filter(instance=instance, type="TASK_CANCELLED", step_id="charge").exists()

    assert job_report_success(lease=lease, result={"charged": True}).accepted is False
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"ran_escalate": True}
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


@pytest.mark.django_db
def test_step_finishing_first__cancels_its_timer(bob):
    publish_approval("b-first")
    instance = instance_start(definition_key="b-first")
    task = Task.objects.get(instance=instance)
    task_claim(task=task, user=bob)
    task_complete(task=Task.objects.get(pk=task.pk), user=bob, variables={})
    timer = Timer.objects.get(instance=instance)
    assert timer.status == TimerStatus.CANCELLED
    cancelled = Event.objects.get(instance=instance, type="TIMER_CANCELLED")
    assert (cancelled.step_id, cancelled.payload["timer_id"]) == ("approve", timer.pk)
    make_due(instance)
    assert timers_fire_due() == 0
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"ran_after": True}


@pytest.mark.django_db
def test_service_finishing_first__cancels_its_timer():
    publish(
        "b-fast",
        [
            service_step(
                "charge",
                "test.mark",
                next=["end"],
                boundary=[{"type": "timer", "duration": "10m", "next": "escalate"}],
            ),
            service_step("escalate", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="b-fast")
    run_due_jobs()
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    instance = fresh(instance)
    assert (instance.status, instance.variables) == ("completed", {"ran_charge": True})


@pytest.mark.django_db
def test_failure_routed_by_catch__cancels_the_timer():
    publish(
        "b-catch",
        [
            service_step(
                "charge",
                "test.raise",
                next=["end"],
                catch=[{"error_equals": ["States.ALL"], "next": "handled"}],
                boundary=[{"type": "timer", "duration": "10m", "next": "escalate"}],
            ),
            service_step("handled", "test.mark", next=["end"]),
            service_step("escalate", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="b-catch")
    run_due_jobs()
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    instance = fresh(instance)
    assert (instance.status, instance.variables["ran_handled"]) == ("completed", True)


@pytest.mark.django_db
def test_terminate__cancels_the_boundary_timers(boss):
    publish_approval("b-stop")
    instance = instance_start(definition_key="b-stop")
    instance_terminate(instance=instance, user=boss)
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    assert Event.objects.get(instance=instance, type="TIMER_CANCELLED").step_id == "approve"
    make_due(instance)
    assert timers_fire_due() == 0
    assert Token.objects.get(instance=instance).status == TokenStatus.CANCELLED


@pytest.mark.django_db
def test_suspended__does_not_fire_until_resumed(boss):
    publish_approval("b-hold")
    instance = instance_start(definition_key="b-hold")
    instance_suspend(instance=instance, user=boss)
    make_due(instance)
    assert timers_fire_due() == 0
    assert Task.objects.get(instance=instance).state == TaskState.OPEN
    instance_resume(instance=instance, user=boss)
    assert Timer.objects.get(instance=instance).status == TimerStatus.FIRED
    assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
    run_due_jobs()
    assert fresh(instance).status == "completed"
