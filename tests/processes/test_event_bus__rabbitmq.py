"""Lifecycle events on the real RabbitMQ: a listener bound to `flowdesk.events` gets every
event of every instance, in history order, as CloudEvents; RabbitMQ stopped for 20 s loses
nothing (the events wait in the outbox and /health says the bus is degraded)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime

import pytest

from processes.models import Event, OutboxEvent, ProcessInstance
from processes.services import instance_start
from tests.support import rabbitmq
from tests.support.definitions import publish, service_step
from tests.support.rabbitmq import rabbitmq_start, rabbitmq_stop
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker
KEY = "bus-order"
bus_vhost, event_bus, listener = rabbitmq.bus_vhost, rabbitmq.event_bus, rabbitmq.listener
OUTAGE_SECONDS = 20


@pytest.fixture
def three_steps(transactional_db):
    return publish(
        KEY,
        [
            service_step("reserve", "test.noop", next=["charge"]),
            service_step("charge", "test.echo", next=["ship"], input={"amount": "${amount}"}),
            service_step("ship", "test.noop"),
        ],
        variables={"amount": "number"},
    )


@pytest.fixture
def bus_workers(event_bus, three_steps, workers):
    workers.start("bus", concurrency=2, beat=True)
    return workers


def start(count: int, offset: int = 0) -> list[str]:
    return [
        instance_start(definition_key=KEY, business_key=f"order-{n}", variables={"amount": n}).pk
        for n in range(offset, offset + count)
    ]


def all_completed(ids: list[str]) -> bool:
    return ProcessInstance.objects.filter(pk__in=ids, status="completed").count() == len(ids)


def received_by_instance(listener) -> dict[str, list[dict]]:
    """Each instance's events as received, a repeat (at-least-once) kept out."""
    seen: set[str] = set()
    by_instance: dict[str, list[dict]] = defaultdict(list)
    for message in listener.received:
        event = message["body"]
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        by_instance[event["subject"]].append(message)
    return by_instance


def assert_every_event_in_history_order(listener, ids: list[str]) -> None:
    total = Event.objects.filter(instance_id__in=ids).count()

    def arrived() -> int:
        listener.drain()
        return sum(len(received_by_instance(listener).get(i, ())) for i in ids)

    wait_for(lambda: arrived() >= total, timeout=90, what=f"{total} events on the bus")
    by_instance = received_by_instance(listener)
    for instance_id in ids:
        history = list(
            Event.objects.filter(instance_id=instance_id)
            .order_by("id")
            .values_list("id", "type", "step_id")
        )
        messages = by_instance[instance_id]
        assert [int(m["body"]["id"]) for m in messages] == [e[0] for e in history]
        for message, (_id, type_, step_id) in zip(messages, history, strict=True):
            event = message["body"]
            assert message["content_type"] == "application/cloudevents+json"
            assert message["routing_key"] == f"{KEY}.{type_}".lower()
            assert event["specversion"] == "1.0"
            assert event["type"] == f"flowdesk.{type_}"
            assert event["source"] == f"/flowdesk/process-definitions/{KEY}"
            assert event["subject"] == instance_id
            assert datetime.fromisoformat(event["time"]).tzinfo is not None
            assert event["data"]["step"] == (step_id or None)
            assert event["data"]["definition_key"] == KEY
            assert "actor" in event["data"]
            assert isinstance(event["data"]["payload"], dict)


def test_event_bus__50_instances_every_event_in_history_order(bus_workers, listener):
    ids = start(50)
    wait_for(lambda: all_completed(ids), timeout=120, what="50 instances to complete")
    assert_every_event_in_history_order(listener, ids)
    types = [m["body"]["type"] for m in received_by_instance(listener)[ids[0]]]
    assert types == [
        "flowdesk.WORKFLOW_STARTED",
        *["flowdesk.TASK_SCHEDULED", "flowdesk.TASK_COMPLETED"] * 3,
        "flowdesk.WORKFLOW_COMPLETED",
    ]
    wait_for(
        lambda: not OutboxEvent.objects.filter(relayed_at__isnull=True).exists(),
        what="an empty outbox",
    )


def test_event_bus__rabbitmq_stopped_20s_loses_nothing(bus_workers, listener, event_bus, client):
    before = start(20)
    wait_for(lambda: all_completed(before), timeout=120, what="the first instances")
    wait_for(
        lambda: len(listener.drain()) >= Event.objects.filter(instance_id__in=before).count(),
        timeout=60,
        what="the first instances' events on the bus",
    )
    rabbitmq_stop()
    stopped_at = time.monotonic()
    try:
        during = start(30, offset=20)
        wait_for(lambda: all_completed(during), timeout=120, what="instances run without the bus")
        # The events wait in the outbox; /health says the bus is degraded, not the app down.
        assert OutboxEvent.objects.filter(relayed_at__isnull=True).count() >= 30 * 8
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded" and body["degraded"] == ["bus"]
        assert body["checks"]["bus"].startswith("degraded")
        assert "event(s) wait in the outbox" in body["checks"]["bus"]
        # The outage itself: RabbitMQ stays down this long whatever the relay tries.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
    finally:
        rabbitmq_start(event_bus)
    assert_every_event_in_history_order(listener, before + during)
    wait_for(
        lambda: not OutboxEvent.objects.filter(relayed_at__isnull=True).exists(),
        what="an empty outbox",
    )
    assert client.get("/health").json()["checks"]["bus"].startswith("ok")
    metrics = client.get("/metrics").content.decode()
    assert "workflow_outbox_pending 0.0" in metrics
    published = [
        line for line in metrics.splitlines() if line.startswith("workflow_events_published_total")
    ]
    assert published and float(published[0].split()[-1]) >= 50 * 8
