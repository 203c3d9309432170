"""Deferred choice (event_gateway): the first of its targets' events wins, the token goes on
through that step, and the other events are disarmed and recorded as cancelled. Both orders,
both formats, and the definition errors. Real PostgreSQL; the sweeper runs in-process with
due times moved into the past."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.dsl import DefinitionError, compile_definition
from processes.errors import NotFound
from processes.models import Event, Subscription, Timer
from processes.services import (
    definition_publish,
    instance_start,
    instance_terminate,
    message_correlate,
    signal_broadcast,
)
from processes.services.timers import timers_fire_due
from processes.statuses import InstanceStatus, SubscriptionStatus, TimerStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

STEPS = [
    {"id": "choose", "type": "event_gateway", "next": ["wait_payment", "wait_7_days"]},
    {
        "id": "wait_payment",
        "type": "message_catch",
        "config": {"message": "payment-received", "correlation_key": "${order_id}"},
        "next": ["ship"],
    },
    {"id": "wait_7_days", "type": "timer", "config": {"duration": "7d"}, "next": ["cancel"]},
    service_step("ship", "test.mark", next=["end"]),
    service_step("cancel", "test.mark", next=["end"]),
    {"id": "end", "type": "end"},
]

YAML = """
apiVersion: api.example.com/v1
kind: WorkflowDefinition
metadata: {name: yaml-choice}
spec:
  startAt: choose
  states:
    - {name: choose, type: event_gateway, next: [wait_payment, wait_7_days, closed]}
    - {name: wait_payment, type: event, event: paid, correlationKey: "${order_id}", next: shipped}
    - {name: wait_7_days, type: wait, seconds: 604800, next: gave_up}
    - {name: closed, type: signal, signal: quarter-closed, next: gave_up}
    - {name: shipped, type: succeed}
    - {name: gave_up, type: fail, error: NoPayment}
"""


def started(key="choice"):
    publish(key, STEPS)
    instance = instance_start(definition_key=key, variables={"order_id": "A-1"})
    assert Timer.objects.filter(instance=instance, status="scheduled").count() == 1
    assert Subscription.objects.filter(instance=instance, status="waiting").count() == 1
    return instance


def passed_steps(instance) -> list[str]:
    return list(
        Event.objects.filter(instance=instance, type="TASK_COMPLETED").values_list(
            "step_id", flat=True
        )
    )


@pytest.mark.django_db
def test_deferred_choice__message_first_wins_and_the_timer_is_cancelled():
    instance = started()
    message_correlate(name="payment-received", correlation_key="A-1")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert passed_steps(instance) == ["ship"]
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    chosen = Event.objects.get(instance=instance, type="GATEWAY_EVALUATED")
    assert (chosen.step_id, chosen.payload["next"]) == ("choose", "wait_payment")
    assert Event.objects.filter(instance=instance, type="TIMER_CANCELLED").count() == 1


@pytest.mark.django_db
def test_deferred_choice__timer_first_wins_and_the_message_is_refused_after():
    instance = started()
    Timer.objects.filter(instance=instance).update(due_at=timezone.now() - timedelta(seconds=1))
    assert timers_fire_due() == 1
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert passed_steps(instance) == ["cancel"]
    subscription = Subscription.objects.get(instance=instance)
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert Event.objects.filter(instance=instance, type="SUBSCRIPTION_CANCELLED").count() == 1
    with pytest.raises(NotFound):
        message_correlate(name="payment-received", correlation_key="A-1")


@pytest.mark.django_db
def test_deferred_choice__a_buffered_message_wins_at_once():
    publish("choice", STEPS)
    message_correlate(name="payment-received", correlation_key="A-1", ttl_seconds=60)
    instance = instance_start(definition_key="choice", variables={"order_id": "A-1"})
    run_due_jobs()
    assert passed_steps(fresh(instance)) == ["ship"]
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED


@pytest.mark.django_db
def test_deferred_choice__terminate_cancels_every_armed_event():
    instance = started()
    instance_terminate(instance=instance)
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED


@pytest.mark.django_db
def test_yaml__deferred_choice_by_signal():
    definition_publish(source=YAML, format="yaml")
    instance = instance_start(definition_key="yaml-choice", variables={"order_id": "Y"})
    assert signal_broadcast(name="quarter-closed") == 1
    instance = fresh(instance)
    assert instance.status == InstanceStatus.FAILED
    assert instance.error["error"] == "NoPayment"
    assert Subscription.objects.filter(instance=instance, status="cancelled").count() == 1
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED


@pytest.mark.parametrize(
    "steps, path, problem",
    [
        (
            [
                {"id": "g", "type": "event_gateway", "next": ["a", "t"]},
                service_step("a", "test.mark", next=["e"]),
                {"id": "t", "type": "timer", "config": {"duration": "1h"}, "next": ["e"]},
                {"id": "e", "type": "end"},
            ],
            "/steps/0/next/0",
            "an event_gateway leads only to event steps (timer, message_catch, signal_catch);"
            " 'a' is a service_task step",
        ),
        (
            [
                {"id": "g", "type": "event_gateway", "next": ["t"]},
                {"id": "t", "type": "timer", "config": {"duration": "1h"}, "next": ["e"]},
                {"id": "e", "type": "end"},
            ],
            "/steps/0/next",
            "an event_gateway needs at least two event steps to choose from",
        ),
        (
            [
                {
                    "id": "g",
                    "type": "exclusive_gateway",
                    "config": {
                        "conditions": [],
                        "default": "e",
                        "boundary": [{"type": "timer", "duration": "1h", "next": "e"}],
                    },
                },
                {"id": "e", "type": "end"},
            ],
            "/steps/0/config/boundary",
            "a 'exclusive_gateway' step cannot have boundary events",
        ),
    ],
)
def test_json__gateway_problems_name_the_place(steps, path, problem):
    with pytest.raises(DefinitionError) as caught:
        compile_definition(json.dumps({"name": "bad", "steps": steps}), "json")
    found = [(p.path, p.message) for p in caught.value.problems]
    assert (path, problem) in found, found
