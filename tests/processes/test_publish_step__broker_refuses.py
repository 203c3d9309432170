"""A `publish` step fails its attempt with PublishFailed when the broker refuses the message
(an exchange of another type) or cannot be reached: retry and catch handle it as for any
step."""

import uuid

import pytest
from django.test import override_settings
from kombu import Connection, Exchange

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh, run_due_jobs
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db

BUS_URL = "amqp://guest:guest@127.0.0.1:5672//"


def announce(exchange: str) -> list[dict]:
    return [
        {
            "id": "tell",
            "type": "publish",
            "config": {
                "exchange": exchange,
                "routing_key": "order.paid",
                "message": {"order": "o-1"},
                "timeout": "3s",
                "retry_policy": {"max_attempts": 2, "interval": "0s", "errors": ["PublishFailed"]},
                "catch": [{"error_equals": ["PublishFailed"], "next": "alert"}],
            },
            "next": ["done"],
        },
        {"id": "alert", "type": "service_task", "config": {"service_name": "test.mark"}},
        {"id": "done", "type": "end"},
    ]


def run_until_finished(instance):
    """Run due jobs here until the instance finished (the retry is due at once)."""
    return wait_for(
        lambda: run_due_jobs() is not None and fresh(instance).status in ("completed", "failed"),
        timeout=30,
        what="the instance to finish",
    )


def assert_caught_after_a_retry(instance, *, says: str) -> None:
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["ran_alert"] is True
    error = instance.variables["last_error"]
    assert error["error"] == "PublishFailed"
    assert says in error["message"]
    retried = instance.events.filter(type="TASK_RETRIED").get()
    assert retried.payload["error"] == "PublishFailed"


def test_publish_step__exchange_of_another_type_is_refused():
    name = f"fanout-{uuid.uuid4().hex[:8]}"
    exchange = Exchange(name, type="fanout", durable=True)
    with Connection(BUS_URL, connect_timeout=5) as connection:
        exchange(connection.default_channel).declare()
        try:
            with override_settings(FLOWDESK_EVENT_BUS_URL=BUS_URL):
                publish("announce", announce(name))
                instance = instance_start(definition_key="announce")
                run_until_finished(instance)
        finally:
            exchange(connection.default_channel).delete()
    assert_caught_after_a_retry(instance, says="PRECONDITION_FAILED")


@override_settings(FLOWDESK_EVENT_BUS_URL="amqp://guest:guest@127.0.0.1:1//")
def test_publish_step__unreachable_broker_fails_the_attempt():
    publish("announce", announce("orders"))
    instance = instance_start(definition_key="announce")
    run_until_finished(instance)
    assert_caught_after_a_retry(instance, says="publishing to exchange 'orders'")
