"""Regressions from the review of the issue-10 waits: a wait a path leaves behind never fires.

* A catch step's timeout is cancelled when its message comes first (also a buffered one).
* A resume that finds two overdue timers of one deferred choice fires one: the choice.
* A step retried by walking in again (a user step whose assignee failed, a subprocess)
  leaves the failed token's boundary events disarmed; a retried service step keeps its.
* Opening waits takes the message names' lock shared: two changes taking two names in
  opposite orders do not deadlock.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from processes.models import Event, ProcessInstance, Timer
from processes.services import (
    instance_resume,
    instance_retry,
    instance_start,
    instance_suspend,
    message_correlate,
)
from processes.services.subscriptions import message_name_lock
from processes.services.timers import timers_fire_due
from processes.statuses import InstanceStatus, TimerStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

WITH_TIMEOUT = [
    {
        "id": "wait",
        "type": "message_catch",
        "config": {
            "message": "paid",
            "correlation_key": "${order}",
            "timeout": "7d",
            "catch": [{"error_equals": ["States.Timeout"], "next": "gave_up"}],
        },
        "next": ["review"],
    },
    {"id": "review", "type": "user_task", "config": {"assignee": "nobody"}, "next": ["end"]},
    service_step("gave_up", "test.mark", next=["end"]),
    {"id": "end", "type": "end"},
]


def make_due(instance) -> None:
    Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("buffered", [False, True])
def test_catch_timeout__cancelled_when_the_message_comes_first(buffered):
    publish("timeout", WITH_TIMEOUT)
    if buffered:
        message_correlate(name="paid", correlation_key="A", ttl_seconds=60)
    instance = instance_start(definition_key="timeout", variables={"order": "A"})
    if not buffered:
        message_correlate(name="paid", correlation_key="A")
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    make_due(instance)
    assert timers_fire_due() == 0
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.RUNNING  # at the review task, not gave_up
    assert "last_error" not in instance.variables
    assert not Event.objects.filter(instance=instance, step_id="gave_up").exists()


@pytest.mark.django_db
def test_resume__two_overdue_timers_of_one_choice_fire_once():
    publish(
        "two-timers",
        [
            {"id": "choose", "type": "event_gateway", "next": ["day", "week"]},
            {"id": "day", "type": "timer", "config": {"duration": "1d"}, "next": ["a"]},
            {"id": "week", "type": "timer", "config": {"duration": "7d"}, "next": ["b"]},
            service_step("a", "test.mark", next=["end"]),
            service_step("b", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="two-timers")
    instance_suspend(instance=instance)
    Timer.objects.filter(instance=instance, step_id="day").update(
        due_at=timezone.now() - timedelta(hours=2)
    )
    Timer.objects.filter(instance=instance, step_id="week").update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    instance_resume(instance=instance)
    run_due_jobs()
    statuses = dict(Timer.objects.filter(instance=instance).values_list("step_id", "status"))
    assert statuses == {"day": TimerStatus.FIRED, "week": TimerStatus.CANCELLED}
    assert fresh(instance).status == InstanceStatus.COMPLETED
    ran = Event.objects.filter(instance=instance, type="TASK_COMPLETED")
    assert list(ran.values_list("step_id", flat=True)) == ["a"]


@pytest.mark.django_db
def test_retried_service_step__keeps_its_boundary_timer():
    publish(
        "failing",
        [
            service_step(
                "charge",
                "test.raise",
                next=["end"],
                boundary=[{"type": "timer", "duration": "3d", "next": "escalate"}],
            ),
            service_step("escalate", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="failing")
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.FAILED
    instance_retry(instance=fresh(instance))
    assert Timer.objects.get(instance=instance).status == TimerStatus.SCHEDULED


@pytest.mark.django_db
def test_user_step_walked_into_again__the_failed_tokens_timer_is_cancelled():
    publish(
        "assign",
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "${approver}",
                    "boundary": [{"type": "timer", "duration": "3d", "next": "end"}],
                },
                "next": ["end"],
            },
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="assign", variables={"approver": "bob"})
    from processes.models import Token

    token = Token.objects.get(instance=instance, node_id="approve")
    # The token failed at its step after arming (as a subprocess whose child failed does).
    Token.objects.filter(pk=token.pk).update(status="failed")
    ProcessInstance.objects.filter(pk=instance.pk).update(status="failed", active_tokens=0)
    instance_retry(instance=fresh(instance))
    timers = Timer.objects.filter(instance=instance).order_by("id")
    assert [t.status for t in timers] == [TimerStatus.CANCELLED, TimerStatus.SCHEDULED]


@pytest.mark.django_db(transaction=True)
def test_opening_waits__two_names_in_opposite_orders_do_not_deadlock():
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def opener(first: str, second: str) -> None:
        try:
            with transaction.atomic():
                message_name_lock(first, shared=True)
                barrier.wait(timeout=10)
                message_name_lock(second, shared=True)
        except Exception as error:  # a deadlock PostgreSQL broke, or the barrier
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=opener, args=("m1", "m2")),
        threading.Thread(target=opener, args=("m2", "m1")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
