"""Timer steps in the database: the sweeper (called in-process) fires each due timer once,
under the instance lock; terminate cancels, suspend holds, resume fires what fell due."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from processes.models import Event, Job, Timer, Token
from processes.services import (
    instance_resume,
    instance_retry,
    instance_start,
    instance_suspend,
    instance_terminate,
    jobs_sweep,
)
from processes.services.timers import timers_fire_due
from processes.statuses import TimerStatus, TokenHolder, TokenStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs


def publish_wait(key: str, config: dict, **extra):
    return publish(
        key,
        [
            {"id": "pause", "type": "timer", "config": config, "next": ["after"]},
            service_step("after", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
        **extra,
    )


def make_due(instance) -> None:
    """The wait is over, without waiting: its due time moves into the past."""
    Timer.objects.filter(instance=instance).update(due_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.mark.django_db
def test_enter__places_a_token_held_by_a_scheduled_timer():
    publish_wait("wait-2h", {"duration": "2h"})
    before = timezone.now()
    instance = instance_start(definition_key="wait-2h")
    timer = Timer.objects.get(instance=instance)
    assert (timer.status, timer.step_id) == (TimerStatus.SCHEDULED, "pause")
    assert before + timedelta(hours=2) <= timer.due_at <= timezone.now() + timedelta(hours=2)
    assert (timer.token.holder, timer.token.status) == (TokenHolder.TIMER, TokenStatus.ACTIVE)
    scheduled = Event.objects.get(instance=instance, type="TIMER_SCHEDULED")
    assert scheduled.actor is None
    assert scheduled.payload["due_at"] == timer.due_at.isoformat()
    assert fresh(instance).active_tokens == 1


@pytest.mark.django_db
def test_sweep__fires_when_due_not_before():
    publish_wait("wait-1h", {"duration": "1h"})
    instance = instance_start(definition_key="wait-1h")
    assert jobs_sweep().fired == 0
    assert Timer.objects.get().status == TimerStatus.SCHEDULED
    assert not Job.objects.exists()

    make_due(instance)
    assert jobs_sweep().fired == 1
    timer = Timer.objects.get()
    assert timer.status == TimerStatus.FIRED and timer.fired_at is not None
    assert timer.token.status == TokenStatus.DONE
    fired = Event.objects.get(instance=instance, type="TIMER_FIRED")
    assert (fired.actor, fired.payload["due_at"]) == (None, timer.due_at.isoformat())
    assert jobs_sweep().fired == 0  # once
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"ran_after": True}
    assert event_types(instance, "pause") == ["TIMER_SCHEDULED", "TIMER_FIRED"]


@pytest.mark.django_db
def test_until_in_the_past__fires_at_the_next_sweep():
    publish_wait("wait-until", {"until": "${deadline}"}, variables={"deadline": "string"})
    instance = instance_start(
        definition_key="wait-until", variables={"deadline": "2020-01-01T09:00:00Z"}
    )
    assert Timer.objects.get().due_at.isoformat() == "2020-01-01T09:00:00+00:00"
    assert timers_fire_due() == 1
    assert Job.objects.get().step_id == "after"
    assert fresh(instance).status == "running"


@pytest.mark.django_db
def test_bad_until__fails_the_instance_at_the_step_and_retry_walks_in_again(boss):
    publish_wait("wait-bad", {"until": "${deadline}"}, variables={"deadline": "string"})
    instance = instance_start(definition_key="wait-bad", variables={"deadline": "soon-ish"})
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["step_id"] == "pause"
    assert "'soon-ish' is not an ISO 8601 date and time" in instance.error["message"]
    assert not Timer.objects.exists()
    assert Token.objects.get().status == TokenStatus.FAILED

    instance.variables = {"deadline": "2020-01-01T00:00:00Z"}
    instance.save(update_fields=["variables"])
    instance_retry(instance=instance, user=boss)
    # The retry walks in again; its catch-up fires the timer, already overdue, at once.
    assert Timer.objects.get().status == TimerStatus.FIRED
    run_due_jobs()
    assert fresh(instance).status == "completed"


@pytest.mark.django_db
def test_terminate__cancels_the_timer_by_the_person_who_terminated(boss):
    publish_wait("wait-stop", {"duration": "1h"})
    instance = instance_start(definition_key="wait-stop")
    instance_terminate(instance=instance, user=boss)
    timer = Timer.objects.get()
    assert (timer.status, timer.token.status) == (TimerStatus.CANCELLED, TokenStatus.CANCELLED)
    cancelled = Event.objects.get(instance=instance, type="TIMER_CANCELLED")
    assert (cancelled.actor, cancelled.step_id) == (boss, "pause")
    assert cancelled.payload["due_at"] == timer.due_at.isoformat()
    make_due(instance)
    assert timers_fire_due() == 0
    assert Timer.objects.get().status == TimerStatus.CANCELLED


@pytest.mark.django_db
def test_suspended__does_not_fire_and_fires_on_resume(boss):
    publish_wait("wait-hold", {"duration": "1h"})
    instance = instance_start(definition_key="wait-hold")
    instance_suspend(instance=instance, user=boss)
    make_due(instance)
    assert timers_fire_due() == 0
    assert Timer.objects.get().status == TimerStatus.SCHEDULED

    instance_resume(instance=instance, user=boss)
    assert Timer.objects.get().status == TimerStatus.FIRED
    assert Job.objects.get().step_id == "after"
    fired = Event.objects.get(instance=instance, type="TIMER_FIRED")
    assert fired.actor is None  # the engine fired it, in the resume's change
    assert event_types(instance)[-3:] == ["WORKFLOW_RESUMED", "TIMER_FIRED", "TASK_SCHEDULED"]


@pytest.mark.django_db
def test_resume__leaves_a_timer_that_is_not_due_yet(boss):
    publish_wait("wait-later", {"duration": "1h"})
    instance = instance_start(definition_key="wait-later")
    instance_suspend(instance=instance, user=boss)
    instance_resume(instance=instance, user=boss)
    assert Timer.objects.get().status == TimerStatus.SCHEDULED


@pytest.mark.django_db
def test_parallel_branches__each_timer_fires_and_the_join_continues_once():
    publish(
        "two-waits",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["short", "long"]},
            {"id": "short", "type": "timer", "config": {"duration": "PT1S"}, "next": "join"},
            {"id": "long", "type": "timer", "config": {"duration": "P1D"}, "next": "join"},
            {"id": "join", "type": "parallel_gateway", "next": ["after"]},
            service_step("after", "test.mark"),
        ],
    )
    instance = instance_start(definition_key="two-waits")
    Timer.objects.filter(step_id="short").update(due_at=timezone.now() - timedelta(seconds=1))
    assert timers_fire_due() == 1
    assert not Job.objects.exists()
    make_due(instance)
    assert timers_fire_due() == 1
    run_due_jobs()
    assert fresh(instance).status == "completed"
    assert event_types(instance).count("JOIN_COMPLETED") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_sweepers_racing__fire_a_timer_once(attempt):
    publish_wait("wait-race", {"duration": "1h"})
    instance = instance_start(definition_key="wait-race")
    make_due(instance)
    barrier = threading.Barrier(2)
    fired, errors = [], []

    def sweep():
        try:
            barrier.wait()
            fired.append(timers_fire_due())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(fired) == [0, 1]
    assert event_types(instance).count("TIMER_FIRED") == 1
    assert Job.objects.filter(step_id="after").count() == 1
    assert fresh(instance).active_tokens == 1
