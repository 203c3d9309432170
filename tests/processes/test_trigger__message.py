"""Message start triggers: `trigger_start_by_message` starts the latest version of the one
definition whose active trigger has that message name; a message name starts one definition
only (publishing another one with it is refused, even two publishes at once)."""

import json
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from guardian.shortcuts import assign_perm

from processes.dsl import DefinitionError
from processes.errors import InvalidInput, NotAllowed
from processes.models import Event, ProcessInstance, Trigger
from processes.services import definition_publish, trigger_start_by_message
from tests.support.definitions import publish, service_step

ORDER_VARIABLES = {"order_id": {"type": "string", "required": True}, "channel": "string"}


def publish_orders(triggers, *, key: str = "orders", **extra):
    return publish(
        key,
        [service_step("ship", "test.mark")],
        variables=ORDER_VARIABLES,
        triggers=triggers,
        **extra,
    )


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk")


@pytest.mark.django_db
def test_message__starts_the_latest_version_with_the_triggers_variables_under_the_messages(
    clerk,
):
    publish_orders([{"message": "order-placed", "variables": {"channel": "shop"}}])
    latest = publish_orders(
        [{"message": "order-placed", "variables": {"channel": "web"}}], description="v2"
    )
    assign_perm("processes.start_processdefinition", clerk, latest.definition)
    instance = trigger_start_by_message(
        name="order-placed", variables={"order_id": "A-17"}, business_key="A-17", user=clerk
    )
    assert instance.definition_version == latest
    assert (instance.variables, instance.business_key) == (
        {"channel": "web", "order_id": "A-17"},
        "A-17",
    )
    assert instance.started_by == clerk
    started = Event.objects.get(instance=instance, type="WORKFLOW_STARTED")
    assert (started.actor, started.payload["trigger"]) == (clerk, "message order-placed")
    trigger = Trigger.objects.get(active=True)
    assert (trigger.next_due_at, trigger.started) == (None, 1)
    assert trigger.last_fired_at is not None

    overridden = trigger_start_by_message(
        name="order-placed",
        variables={"order_id": "A-18", "channel": "phone"},
        business_key=None,
        user=None,
    )
    assert overridden.variables == {"channel": "phone", "order_id": "A-18"}


@pytest.mark.django_db
def test_no_such_trigger__none_and_nothing_started():
    publish_orders([{"message": "order-placed"}])
    assert (
        trigger_start_by_message(
            name="order-cancelled", variables={"order_id": "1"}, business_key=None, user=None
        )
        is None
    )
    publish_orders([], description="v2 takes no orders by message")
    assert (
        trigger_start_by_message(
            name="order-placed", variables={"order_id": "1"}, business_key=None, user=None
        )
        is None
    )
    assert not ProcessInstance.objects.exists()


@pytest.mark.django_db
def test_sender_without_the_right_to_start__refused_and_nothing_started(clerk):
    publish_orders([{"message": "order-placed"}])
    with pytest.raises(NotAllowed):
        trigger_start_by_message(
            name="order-placed", variables={"order_id": "1"}, business_key=None, user=clerk
        )
    with pytest.raises(InvalidInput) as caught:
        trigger_start_by_message(name="order-placed", variables={}, business_key=None, user=None)
    assert caught.value.field_errors == {"order_id": ["is required"]}
    assert not ProcessInstance.objects.exists()
    assert Trigger.objects.get().started == 0


@pytest.mark.django_db
def test_the_same_message_in_another_definition__refused_naming_the_place():
    publish_orders([{"message": "order-placed"}])
    with pytest.raises(DefinitionError) as caught:
        publish_orders(
            [{"every": "1h", "variables": {"order_id": "x"}}, {"message": "order-placed"}],
            key="rival",
        )
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            "/triggers/1/message",
            "message 'order-placed' already starts definition 'orders': a message starts one"
            " definition",
        )
    ]
    assert not Trigger.objects.filter(definition__key="rival").exists()
    # Once the first definition lets it go, another may take it.
    publish_orders([], description="no message any more")
    publish_orders([{"message": "order-placed"}], key="rival")
    assert Trigger.objects.get(active=True).definition.key == "rival"


@pytest.mark.django_db(transaction=True)
def test_two_definitions_published_at_once_with_one_message__one_is_refused():
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def publish_one(key: str) -> None:
        document = {
            "name": key,
            "triggers": [{"message": "invoice-received"}],
            "steps": [service_step("book", "test.mark")],
        }
        try:
            barrier.wait()
            definition_publish(source=json.dumps(document), format="json")
            outcomes.append("published")
        except DefinitionError as error:
            outcomes.append(error.problems[0].path)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish_one, args=(key,)) for key in ("books", "ledger")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["/triggers/0/message", "published"]
    assert Trigger.objects.filter(active=True, spec="invoice-received").count() == 1
