"""A `publish` step puts its rendered message on RabbitMQ with publisher confirms: a
consumer bound to the exchange receives it, with its routing key, a message id that is the
same for every attempt of the step, and the step's instance in its headers."""

import uuid

import pytest
from kombu import Connection, Exchange, Queue

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import event_types, fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

BUS_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def exchange():
    """A topic exchange of this test's own, and a queue bound to `order.*` on it."""
    exchange = Exchange(f"orders-{uuid.uuid4().hex[:8]}", type="topic", durable=True)
    with Connection(BUS_URL, connect_timeout=5) as connection:
        queue = Queue(exclusive=True, exchange=exchange, routing_key="order.*")
        queue = queue(connection.default_channel)
        queue.declare()
        yield exchange, queue, connection
        exchange(connection.default_channel).delete()


@pytest.fixture
def bus_worker(workers, monkeypatch):
    monkeypatch.setenv("FLOWDESK_EVENT_BUS_URL", BUS_URL)
    workers.start("publish", concurrency=1, beat=True)
    return workers


def test_publish_step__consumer_receives_the_message(exchange, bus_worker):
    exchange, queue, _connection = exchange
    publish(
        "announce",
        [
            {
                "id": "tell",
                "type": "publish",
                "config": {
                    "exchange": exchange.name,
                    "routing_key": "order.${status}",
                    "message": {"order": "${order_id}", "total": "${total}", "fixed": [1, 2]},
                },
                "next": ["done"],
            },
            {"id": "done", "type": "end"},
        ],
    )
    instance = instance_start(
        definition_key="announce", variables={"order_id": "o-9", "status": "paid", "total": 40}
    )
    wait_for(lambda: fresh(instance).status == "completed", timeout=60, what="the publish")
    assert event_types(instance, "tell") == ["TASK_SCHEDULED", "TASK_COMPLETED"]
    message = wait_for(lambda: queue.get(no_ack=True), timeout=10, what="the message")
    assert message.payload == {"order": "o-9", "total": 40, "fixed": [1, 2]}
    assert message.delivery_info["routing_key"] == "order.paid"
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2
    job_id = instance.jobs.get(step_id="tell").pk
    assert message.properties["message_id"] == f"flowdesk:{instance.pk}:tell:{job_id}"
    assert message.headers["flowdesk_instance"] == str(instance.pk)
    assert queue.get(no_ack=True) is None  # exactly one
