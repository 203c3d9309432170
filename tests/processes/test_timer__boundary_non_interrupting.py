"""Non-interrupting boundary timers in the database: each firing starts a new path at its
`next` while the step stays; with `repeat` it fires again every `duration`, up to N times,
and the step finishing first cancels what is left. The sweeper runs in-process, with due
times moved into the past instead of waiting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import Event, Timer
from processes.services import instance_start
from processes.services.timers import timers_fire_due
from processes.statuses import TaskState, TimerStatus, TokenStatus
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs


def make_due(instance) -> None:
    Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "pw")


def publish_reminded(key: str, repeat) -> None:
    reminder = {"type": "timer", "duration": "1d", "interrupting": False, "next": "remind"}
    publish(
        key,
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {"assignee": "bob", "boundary": [{**reminder, "repeat": repeat}]},
                "next": ["after"],
            },
            service_step("after", "test.mark", next=["end"]),
            {"id": "remind", "type": "end"},
            {"id": "end", "type": "end"},
        ],
    )


def remind_once(instance) -> int:
    make_due(instance)
    return timers_fire_due()


@pytest.mark.django_db
def test_repeat_2__fires_twice_while_the_task_stays():
    publish_reminded("n-two", 2)
    instance = instance_start(definition_key="n-two")
    task = Task.objects.get(instance=instance)
    assert remind_once(instance) == 1
    second = Timer.objects.get(instance=instance, status=TimerStatus.SCHEDULED)
    # The next reminder is one `duration` after this one fired.
    assert second.due_at > timezone.now() + timedelta(hours=23)
    assert remind_once(instance) == 1
    assert remind_once(instance) == 0  # two, then no more
    assert list(Timer.objects.filter(instance=instance).values_list("status", flat=True)) == [
        TimerStatus.FIRED,
        TimerStatus.FIRED,
    ]
    task = Task.objects.get(pk=task.pk)
    assert (task.state, task.token.status) == (TaskState.OPEN, TokenStatus.ACTIVE)
    instance = fresh(instance)
    assert (instance.status, instance.active_tokens) == ("running", 1)
    assert Event.objects.filter(instance=instance, type="TIMER_FIRED").count() == 2


@pytest.mark.django_db
def test_completing_the_task__continues_normally_and_cancels_the_remaining_reminder(bob):
    publish_reminded("n-done", 2)
    instance = instance_start(definition_key="n-done")
    assert remind_once(instance) == 1
    task = Task.objects.get(instance=instance)
    task_claim(task=task, user=bob)
    task_complete(task=Task.objects.get(pk=task.pk), user=bob, variables={})
    statuses = list(Timer.objects.filter(instance=instance).values_list("status", flat=True))
    assert statuses == [TimerStatus.FIRED, TimerStatus.CANCELLED]
    assert Event.objects.filter(instance=instance, type="TIMER_CANCELLED").count() == 1
    make_due(instance)
    assert timers_fire_due() == 0
    run_due_jobs()
    instance = fresh(instance)
    assert (instance.status, instance.variables) == ("completed", {"ran_after": True})


@pytest.mark.django_db
def test_repeat_forever__keeps_reminding():
    publish_reminded("n-forever", "forever")
    instance = instance_start(definition_key="n-forever")
    assert [remind_once(instance) for _ in range(4)] == [1, 1, 1, 1]
    assert Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).count() == 1


@pytest.mark.django_db
def test_without_repeat__fires_once():
    publish_reminded("n-once", 1)
    instance = instance_start(definition_key="n-once")
    assert [remind_once(instance) for _ in range(2)] == [1, 0]
    assert Task.objects.get(instance=instance).state == TaskState.OPEN
