"""Timers under faults, on real workers and beat: a worker SIGKILLed around the due time, the
broker's Redis database flushed while timers are pending and just after some fired, and a
timer that falls due while its instance is suspended. Every timer fires once and every
instance completes once; the rows are what survives, not anything in a worker's memory."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import ProcessInstance, Timer
from processes.services import instance_resume, instance_start, instance_suspend
from processes.statuses import TaskState, TimerStatus
from tasks.models import Task
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import broker_flush, wait_for

pytestmark = pytest.mark.worker

WAVE = 8  # instances of each definition per wave


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "pw")


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


def mark(step_id: str) -> dict:
    # A step the killed worker was running is taken back when its lease (timeout + grace)
    # expires: a short timeout keeps that within the test's patience.
    return service_step(step_id, "test.mark", next=["end"], timeout="3s")


def publish_timers() -> None:
    """A timer step, and a user step whose interrupting boundary timer escalates; both wait
    `until` the instant in the variable `due`."""
    publish(
        "fault-wait",
        [
            {"id": "pause", "type": "timer", "config": {"until": "${due}"}, "next": ["after"]},
            mark("after"),
            {"id": "end", "type": "end"},
        ],
        variables={"due": "string"},
    )
    publish(
        "fault-boundary",
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "bob",
                    "boundary": [{"type": "timer", "until": "${due}", "next": "escalate"}],
                },
                "next": ["after"],
            },
            mark("after"),
            mark("escalate"),
            {"id": "end", "type": "end"},
        ],
        variables={"due": "string"},
    )


def start_wave(*, due_in: float) -> list[ProcessInstance]:
    """WAVE instances of each definition, all due at the same instant `due_in` s from now."""
    due = (timezone.now() + timedelta(seconds=due_in)).isoformat()
    return [
        instance_start(definition_key=key, variables={"due": due})
        for key in ("fault-wait", "fault-boundary")
        for _ in range(WAVE)
    ]


def fired_timers() -> int:
    return Timer.objects.filter(status=TimerStatus.FIRED).count()


def wait_all_completed(instances: list[ProcessInstance], what: str) -> None:
    ids = [instance.pk for instance in instances]
    wait_for(
        lambda: ProcessInstance.objects.filter(pk__in=ids, status="completed").count() == len(ids),
        timeout=90,
        what=what,
    )


def assert_completed_once(instance: ProcessInstance) -> None:
    """One timer, fired once; the path after it taken once; the instance completed once."""
    instance = fresh(instance)
    [timer] = Timer.objects.filter(instance=instance)
    assert timer.status == TimerStatus.FIRED
    fired = instance.events.filter(type="TIMER_FIRED")
    assert [event.payload["timer_id"] for event in fired] == [timer.pk]
    assert instance.events.filter(type="WORKFLOW_COMPLETED").count() == 1
    went_on = "after" if timer.boundary is None else "escalate"
    assert instance.variables == {"due": instance.variables["due"], f"ran_{went_on}": True}
    assert instance.tokens.filter(node_id=went_on).count() == 1
    assert instance.events.filter(type="TASK_COMPLETED", step_id=went_on).count() == 1
    if timer.boundary is not None:  # interrupted: the task left the inbox, "after" never ran
        assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
        assert not instance.tokens.filter(node_id="after").exists()


def test_worker_killed_around_the_due_time__every_timer_fires_once(workers, bob):
    publish_timers()
    workers.start("victim", concurrency=2, beat=True)
    instances = start_wave(due_in=1) + start_wave(due_in=8)
    wait_for(lambda: fired_timers() > 0, timeout=60, what="the victim's sweeper to fire")
    workers.kill("victim")  # worker and its beat, likely in the middle of a sweep

    instances += start_wave(due_in=0)  # started while nobody runs: due already
    workers.start("rescuer", concurrency=2, beat=True)
    wait_all_completed(instances, "the rescuer to fire every timer")
    assert fired_timers() == len(instances)
    for instance in instances:
        assert_completed_once(instance)


def test_broker_flushed__pending_and_just_fired_timers_complete_once(worker, bob):
    publish_timers()
    instances = start_wave(due_in=1) + start_wave(due_in=6)
    wait_for(lambda: fired_timers() > 0, timeout=60, what="the first timers to fire")
    broker_flush()  # the jobs those firings just sent, and the sweeps queued, are gone
    wait_for(lambda: fired_timers() >= 2 * WAVE, timeout=60, what="the first wave to fire")
    broker_flush()  # again, with the second wave pending
    instances += start_wave(due_in=0)
    broker_flush()  # and the third wave's first jobs

    wait_all_completed(instances, "every instance after the flushes")
    assert fired_timers() == len(instances)
    for instance in instances:
        assert_completed_once(instance)


def test_suspended__an_overdue_timer_waits_for_the_resume_then_fires(worker, bob, boss):
    publish_timers()
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    held = instance_start(definition_key="fault-wait", variables={"due": later})
    instance_suspend(instance=held, user=boss)
    Timer.objects.filter(instance=held).update(due_at=timezone.now() - timedelta(seconds=1))

    # A running instance started after the due time completing proves the sweeper has run
    # since the held timer fell due, and left it alone.
    canary = instance_start(
        definition_key="fault-wait", variables={"due": timezone.now().isoformat()}
    )
    wait_all_completed([canary], "a sweep after the held timer fell due")
    assert Timer.objects.get(instance=held).status == TimerStatus.SCHEDULED
    assert fresh(held).status == "suspended"

    instance_resume(instance=held, user=boss)
    wait_all_completed([held], "the resumed instance")
    assert_completed_once(held)
    assert_completed_once(canary)
