"""The transactional outbox and its relay, in this process: what is written and when, the
order kept per instance when the bus fails or refuses, one relay at a time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.event_bus import BusRefused, BusUnavailable
from processes.models import Event, OutboxEvent, WebhookSubscription
from processes.services import instance_purge, instance_start
from processes.services import outbox as outbox_service
from processes.services.outbox import outbox_consumers_changed, outbox_relay
from tests.support import rabbitmq
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs
from tests.support.workers import wait_for

KEY = "outbox-flow"
bus_vhost, event_bus, listener = rabbitmq.bus_vhost, rabbitmq.event_bus, rabbitmq.listener


@pytest.fixture(autouse=True)
def _consumers_forgotten():
    outbox_consumers_changed()
    yield
    outbox_consumers_changed()


@pytest.fixture
def two_steps(db):
    return publish(
        KEY, [service_step("a", "test.noop", next=["b"]), service_step("b", "test.noop")]
    )


@pytest.fixture
def fake_bus(settings, monkeypatch):
    """A bus that records what it is given, wave by wave; `fail(event_id, exc)` makes the
    wave holding that event raise (BusUnavailable) or nacks that event (BusRefused)."""

    class FakeBus:
        def __init__(self) -> None:
            self.published: list[dict] = []
            self.waves: list[list[str]] = []
            self.failures: dict[str, Exception] = {}
            self.gate: threading.Event | None = None
            self.entered = threading.Event()

        def fail(self, event_id: int, exc: Exception) -> None:
            self.failures[str(event_id)] = exc

        def __call__(self, messages: list[tuple[str, dict]]) -> list[bool]:
            self.entered.set()
            if self.gate is not None:
                self.gate.wait(30)
            ids = [event["id"] for _key, event in messages]
            for event_id in ids:
                if isinstance(self.failures.get(event_id), BusUnavailable):
                    raise self.failures.pop(event_id)
            self.waves.append(ids)
            acked = []
            for _key, event in messages:
                refused = self.failures.pop(event["id"], None) is not None
                if not refused:
                    self.published.append(event)
                acked.append(not refused)
            return acked

        def ids_of(self, instance_id: str) -> list[int]:
            return [int(e["id"]) for e in self.published if e["subject"] == instance_id]

    bus = FakeBus()
    settings.FLOWDESK_EVENT_BUS_URL = "amqp://fake/"
    monkeypatch.setattr(outbox_service, "bus_publish_many", bus)
    return bus


def history_ids(instance_id: str) -> list[int]:
    return list(
        Event.objects.filter(instance_id=instance_id).order_by("id").values_list("id", flat=True)
    )


def test_outbox__off_without_bus_or_webhook_writes_nothing_and_adds_no_statement(
    two_steps, settings
):
    settings.FLOWDESK_OUTBOX = {**settings.FLOWDESK_OUTBOX, "CONSUMERS_CHECK_SECONDS": 600}
    instance_start(definition_key=KEY)  # the "is anyone listening" answer is now cached
    instance = instance_start(definition_key=KEY)
    with CaptureQueriesContext(connection) as captured:
        run_due_jobs()
    assert not OutboxEvent.objects.exists()
    statements = " ".join(q["sql"] for q in captured.captured_queries).lower()
    assert "outbox" not in statements and "webhook" not in statements
    assert len(history_ids(instance.pk)) == 6


def test_outbox__an_active_webhook_subscription_turns_it_on(two_steps):
    WebhookSubscription.objects.create(url="https://hooks.example.com/x", secret="s" * 20)
    outbox_consumers_changed()
    instance = instance_start(definition_key=KEY)
    run_due_jobs()
    assert list(OutboxEvent.objects.order_by("id").values_list("id", flat=True)) == history_ids(
        instance.pk
    )


def test_outbox__rows_carry_the_history_ids_and_outlive_a_purge(two_steps, listener):
    instance = instance_start(definition_key=KEY, business_key="B-1")
    run_due_jobs()
    ids = history_ids(instance.pk)
    rows = list(OutboxEvent.objects.order_by("id"))
    assert [row.id for row in rows] == ids
    assert [row.cloudevent["id"] for row in rows] == [str(i) for i in ids]
    assert rows[0].routing_key == f"{KEY}.workflow_started"
    assert rows[0].cloudevent["data"]["business_key"] == "B-1"

    instance_purge(instance=instance)  # gone from the database before the relay ran
    assert not Event.objects.filter(instance_id=instance.pk).exists()

    report = outbox_relay()
    assert (report.relayed, report.published, report.stopped) == (6, 6, "")
    assert not OutboxEvent.objects.exists()  # no webhook delivery keeps them
    wait_for(lambda: len(listener.drain()) >= 6, what="six events on the bus")
    assert [int(m["body"]["id"]) for m in listener.received] == ids


def test_outbox__bus_down_stops_the_batch_and_each_instance_goes_on_where_it_stopped(
    two_steps, fake_bus
):
    first = instance_start(definition_key=KEY)
    second = instance_start(definition_key=KEY)
    run_due_jobs()
    first_ids, second_ids = history_ids(first.pk), history_ids(second.pk)
    fake_bus.fail(first_ids[2], BusUnavailable("connection refused"))

    report = outbox_relay()
    assert report.stopped.startswith("bus unavailable")
    # Waves of one event per instance: two waves went out before the bus failed.
    assert fake_bus.ids_of(first.pk) == first_ids[:2]
    assert fake_bus.ids_of(second.pk) == second_ids[:2]
    waiting = set(OutboxEvent.objects.filter(relayed_at__isnull=True).values_list("id", flat=True))
    assert waiting == set(first_ids[2:] + second_ids[2:])

    report = outbox_relay()  # the bus is back
    assert report.stopped == ""
    assert fake_bus.ids_of(first.pk) == first_ids
    assert fake_bus.ids_of(second.pk) == second_ids
    assert not OutboxEvent.objects.exists()


def test_outbox__a_wave_holds_at_most_one_event_per_instance(two_steps, fake_bus):
    ids = [instance_start(definition_key=KEY).pk for _ in range(3)]
    run_due_jobs()
    outbox_relay()
    subject = {e["id"]: e["subject"] for e in fake_bus.published}
    assert len(fake_bus.waves) == 6  # six events per instance
    for wave in fake_bus.waves:
        assert sorted(subject[event_id] for event_id in wave) == sorted(ids)
    for instance_id in ids:
        assert fake_bus.ids_of(instance_id) == history_ids(instance_id)


def test_outbox__a_refused_event_holds_its_instance_back_and_lets_others_go(two_steps, fake_bus):
    held = instance_start(definition_key=KEY)
    other = instance_start(definition_key=KEY)
    run_due_jobs()
    held_ids = history_ids(held.pk)
    fake_bus.fail(held_ids[1], BusRefused("nacked"))

    outbox_relay()
    assert fake_bus.ids_of(held.pk) == held_ids[:1]  # nothing after the refused one
    assert fake_bus.ids_of(other.pk) == history_ids(other.pk)
    assert (
        list(OutboxEvent.objects.filter(relayed_at__isnull=True).values_list("id", flat=True))
        == held_ids[1:]
    )

    outbox_relay()
    assert fake_bus.ids_of(held.pk) == held_ids


@pytest.mark.django_db(transaction=True)
def test_outbox__a_second_relay_waits_for_the_first_and_never_overtakes_it(fake_bus):
    publish(KEY, [service_step("a", "test.noop", next=["b"]), service_step("b", "test.noop")])
    instance = instance_start(definition_key=KEY)
    run_due_jobs()
    ids = history_ids(instance.pk)
    fake_bus.gate = threading.Event()
    reports = []

    def first_relay() -> None:
        try:
            reports.append(outbox_relay())
        finally:
            connection.close()

    thread = threading.Thread(target=first_relay)
    thread.start()
    try:
        assert fake_bus.entered.wait(30)  # the first relay holds its batch, publishing
        second = outbox_relay()
        assert second.busy and second.relayed == 0
    finally:
        fake_bus.gate.set()
        thread.join(30)
    assert reports[0].relayed == len(ids)
    assert [int(e["id"]) for e in fake_bus.published] == ids


def test_outbox__the_sweeper_deletes_relayed_events_after_keep_days_unless_one_waits(
    two_steps, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from processes.models import WebhookDelivery
    from processes.services.outbox import outbox_sweep

    hook = WebhookSubscription.objects.create(url="https://hooks.example.com/x", secret="s" * 20)
    outbox_consumers_changed()
    instance_start(definition_key=KEY)
    outbox_relay()
    assert WebhookDelivery.objects.filter(subscription=hook).count() == 2  # kept with them
    old, recent = OutboxEvent.objects.order_by("id")
    OutboxEvent.objects.filter(pk=old.pk).update(
        relayed_at=timezone.now() - timedelta(days=settings.FLOWDESK_OUTBOX["KEEP_DAYS"], hours=1)
    )
    outbox_sweep()  # its delivery still waits to be sent: it stays
    assert list(OutboxEvent.objects.order_by("id").values_list("id", flat=True)) == [
        old.pk,
        recent.pk,
    ]
    WebhookDelivery.objects.filter(event=old).update(status=WebhookDelivery.Status.DELIVERED)
    outbox_sweep()
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [recent.pk]
    assert WebhookDelivery.objects.filter(subscription=hook).count() == 1
