"""Message catch steps: a message of the step's name whose correlation key matches is
delivered once, its variables merged; a message that comes too early is kept with a ttl;
one that matches nothing (and has no ttl) is refused clearly; several waiting instances
make an ambiguous message a conflict. Real PostgreSQL, the services called in-process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.dsl import DefinitionError, compile_definition
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.models import Message, ProcessInstance, Subscription
from processes.services import (
    instance_resume,
    instance_start,
    instance_suspend,
    instance_terminate,
    message_correlate,
)
from processes.services.messages import messages_expire
from processes.statuses import InstanceStatus, MessageStatus, SubscriptionStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

ORDER = [
    service_step("place", "test.mark", next=["wait_payment"]),
    {
        "id": "wait_payment",
        "type": "message_catch",
        "config": {"message": "payment-received", "correlation_key": "${order_id}"},
        "next": ["ship"],
    },
    service_step("ship", "test.mark", next=["end"]),
    {"id": "end", "type": "end"},
]

YAML_ORDER = """
apiVersion: api.example.com/v1
kind: WorkflowDefinition
metadata: {name: yaml-order}
spec:
  startAt: Wait
  states:
    - name: Wait
      type: event
      event: payment-received
      correlationKey: "${order_id}"
      next: Done
    - {name: Done, type: succeed}
"""


def waiting_at_payment(key="order", **variables):
    publish(key, ORDER)
    instance = instance_start(definition_key=key, variables={"order_id": "A-17", **variables})
    run_due_jobs()
    assert Subscription.objects.filter(instance=instance, status="waiting").count() == 1
    return instance


@pytest.mark.django_db
def test_message__with_matching_key_is_delivered_and_merges_its_variables():
    instance = waiting_at_payment()
    outcome = message_correlate(
        name="payment-received", correlation_key="A-17", variables={"paid": 120}
    )
    assert outcome.outcome == "delivered" and outcome.instance_id == instance.pk
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["paid"] == 120
    assert "MESSAGE_RECEIVED" in event_types(instance, "wait_payment")
    subscription = Subscription.objects.get(instance=instance)
    assert subscription.status == SubscriptionStatus.DELIVERED


@pytest.mark.django_db
def test_message__a_number_key_matches_the_same_number_written_as_text():
    publish("order", ORDER)
    instance = instance_start(definition_key="order", variables={"order_id": 17})
    run_due_jobs()
    assert message_correlate(name="payment-received", correlation_key=17).instance_id == instance.pk


@pytest.mark.django_db
def test_message__with_another_key_matches_nothing_and_is_refused_clearly():
    instance = waiting_at_payment()
    with pytest.raises(NotFound, match="no instance waits for message 'payment-received'"):
        message_correlate(name="payment-received", correlation_key="B-99")
    assert fresh(instance).status == InstanceStatus.RUNNING
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_message__by_business_key_alone_reaches_that_instance():
    publish("order", ORDER)
    first = instance_start(definition_key="order", variables={"order_id": "1"}, business_key="c1")
    instance_start(definition_key="order", variables={"order_id": "2"}, business_key="c2")
    run_due_jobs()
    assert message_correlate(name="payment-received", business_key="c1").instance_id == first.pk


@pytest.mark.django_db
def test_message__matching_several_waiting_instances_is_a_conflict_and_reaches_none():
    publish("order", ORDER)
    for number in ("1", "2"):
        instance_start(definition_key="order", variables={"order_id": number})
    run_due_jobs()
    with pytest.raises(Conflict, match="several instances wait"):
        message_correlate(name="payment-received")
    assert Subscription.objects.filter(status="waiting").count() == 2


@pytest.mark.django_db
def test_message__sent_before_its_step_is_reached_with_ttl_is_delivered_when_it_is():
    publish("order", ORDER)
    outcome = message_correlate(
        name="payment-received", correlation_key="A-17", variables={"paid": 5}, ttl_seconds=60
    )
    assert outcome.outcome == "buffered"
    instance = instance_start(definition_key="order", variables={"order_id": "A-17"})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["paid"] == 5
    message = Message.objects.get(pk=outcome.message_id)
    assert message.status == MessageStatus.DELIVERED and message.instance_id == instance.pk


@pytest.mark.django_db
def test_message__buffered_for_another_key_is_not_taken():
    message_correlate(name="payment-received", correlation_key="B-1", ttl_seconds=60)
    instance = waiting_at_payment()
    assert fresh(instance).status == InstanceStatus.RUNNING
    assert Message.objects.get().status == MessageStatus.BUFFERED


@pytest.mark.django_db
def test_message__buffered_past_its_ttl_expires_and_is_not_delivered():
    outcome = message_correlate(name="payment-received", correlation_key="A-17", ttl_seconds=60)
    Message.objects.filter(pk=outcome.message_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    instance = waiting_at_payment()
    assert fresh(instance).status == InstanceStatus.RUNNING
    assert messages_expire() == 1
    assert Message.objects.get().status == MessageStatus.EXPIRED


@pytest.mark.django_db
def test_message__to_a_suspended_instance_waits_in_the_buffer_and_arrives_on_resume():
    instance = waiting_at_payment()
    instance_suspend(instance=instance)
    outcome = message_correlate(name="payment-received", correlation_key="A-17", ttl_seconds=60)
    assert outcome.outcome == "buffered"
    instance_resume(instance=instance)
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.COMPLETED


@pytest.mark.django_db
def test_message__terminate_cancels_the_subscription():
    instance = waiting_at_payment()
    instance_terminate(instance=instance)
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED
    assert "SUBSCRIPTION_CANCELLED" in event_types(instance, "wait_payment")
    with pytest.raises(NotFound):
        message_correlate(name="payment-received", correlation_key="A-17")


@pytest.mark.django_db
def test_message__of_the_wrong_declared_type_is_refused_and_nothing_moves():
    publish(
        "typed",
        ORDER,
        variables={"order_id": "string", "paid": "number"},
    )
    instance = instance_start(definition_key="typed", variables={"order_id": "A-17"})
    run_due_jobs()
    with pytest.raises(InvalidInput, match="paid"):
        message_correlate(
            name="payment-received", correlation_key="A-17", variables={"paid": "lots"}
        )
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.WAITING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"name": ""}, "name must be a non-empty text"),
        ({"name": "x" * 201}, "longer than 200"),
        ({"name": "m", "correlation_key": ["a"]}, "correlation_key must be a text"),
        ({"name": "m", "variables": [1]}, "variables must be an object"),
        ({"name": "m", "variables": {"a\ud800": 1}}, "lone surrogate"),
        ({"name": "m", "ttl_seconds": -1}, "ttl_seconds must be a positive"),
        ({"name": "m", "ttl_seconds": 10**9}, "at most"),
    ],
)
def test_message__bad_arguments_are_refused_clearly(arguments, message):
    with pytest.raises(InvalidInput, match=message):
        message_correlate(**arguments)


@pytest.mark.django_db
def test_message__sending_needs_the_right_to_control_instances(django_user_model):
    clerk = django_user_model.objects.create_user("clerk2", "c@example.com", "pw")
    waiting_at_payment()
    with pytest.raises(NotAllowed):
        message_correlate(name="payment-received", correlation_key="A-17", user=clerk)


@pytest.mark.django_db
def test_message__catch_step_timeout_is_caught_as_states_timeout():
    publish(
        "timeout",
        [
            {
                "id": "wait",
                "type": "message_catch",
                "config": {
                    "message": "m",
                    "timeout": "7d",
                    "catch": [{"error_equals": ["States.Timeout"], "next": "gave_up"}],
                },
                "next": ["end"],
            },
            service_step("gave_up", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    from processes.models import Timer
    from processes.services.timers import timers_fire_due

    instance = instance_start(definition_key="timeout")
    Timer.objects.filter(instance=instance).update(due_at=timezone.now() - timedelta(seconds=1))
    assert timers_fire_due() == 1
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["last_error"]["error"] == "States.Timeout"
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED


@pytest.mark.django_db
def test_yaml__event_state_waits_for_its_message():
    from processes.services import definition_publish

    definition_publish(source=YAML_ORDER, format="yaml")
    instance = instance_start(definition_key="yaml-order", variables={"order_id": "Y-1"})
    message_correlate(name="payment-received", correlation_key="Y-1")
    assert fresh(instance).status == InstanceStatus.COMPLETED


def test_yaml__event_timeout_seconds_is_read():
    graph = compile_definition(
        YAML_ORDER.replace("next: Done", "timeoutSeconds: 60\n      next: Done"), "yaml"
    )
    node = graph.node("Wait")
    assert (node.message, node.correlation_key, node.timeout_seconds) == (
        "payment-received",
        "${order_id}",
        60,
    )


@pytest.mark.parametrize(
    "config, path, problem",
    [
        ({}, "/steps/0/config/message", "missing"),
        ({"message": "${x}"}, "/steps/0/config/message", "a message name, not a template"),
        ({"message": "m", "correlation_key": "${"}, "/steps/0/config/correlation_key", None),
        ({"message": "m", "timeout": "soon"}, "/steps/0/config/timeout", None),
    ],
)
def test_json__message_catch_problems_name_the_place(config, path, problem):
    import json

    source = json.dumps(
        {
            "name": "bad",
            "steps": [
                {"id": "w", "type": "message_catch", "config": config, "next": ["e"]},
                {"id": "e", "type": "end"},
            ],
        }
    )
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "json")
    found = [(p.path, p.message) for p in caught.value.problems]
    assert path in [p for p, _ in found], found
    if problem:
        assert any(problem in m for p, m in found if p == path), found


@pytest.mark.django_db
def test_message__that_nothing_waits_for_starts_an_instance_through_its_trigger():
    publish(
        "order-intake",
        [service_step("take", "test.mark", next=["end"]), {"id": "end", "type": "end"}],
        triggers=[{"message": "order-placed"}],
    )
    outcome = message_correlate(
        name="order-placed", business_key="O-1", variables={"customer": "ACME"}
    )
    assert outcome.outcome == "started"
    run_due_jobs()
    instance = ProcessInstance.objects.get(pk=outcome.instance_id)
    assert (instance.business_key, instance.variables["customer"]) == ("O-1", "ACME")
    assert instance.status == InstanceStatus.COMPLETED


@pytest.mark.django_db
def test_message__a_waiting_step_takes_it_before_a_trigger_starts_anything():
    instance = waiting_at_payment()
    publish(
        "payment-intake",
        [service_step("take", "test.mark", next=["end"]), {"id": "end", "type": "end"}],
        triggers=[{"message": "payment-received"}],
    )
    outcome = message_correlate(name="payment-received", correlation_key="A-17")
    assert (outcome.outcome, outcome.instance_id) == ("delivered", instance.pk)
    assert message_correlate(name="payment-received", correlation_key="B-2").outcome == "started"
