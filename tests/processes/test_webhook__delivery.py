"""Webhooks end to end: a receiver on 127.0.0.1 gets signed CloudEvents from real workers,
a receiver answering 500, 500, 200 gets three attempts; and, in this process, what each
answer leads to (4xx stops, the 24 h window, a refused target, redeliver)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from processes.services import instance_start
from processes.services.outbox import outbox_consumers_changed, outbox_relay
from processes.services.webhooks import (
    webhook_deliver,
    webhook_delivery_redeliver,
    webhook_subscription_create,
)
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs
from tests.support.receiver import Receiver, Reply
from tests.support.workers import wait_for

KEY = "hooked"
SECRET = "whsec-test-0123456789abcdef"  # noqa: S105 - the tests' own


def verified(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What a receiver does (the README's five lines)."""
    parts = dict(item.split("=", 1) for item in headers["flowdesk-signature"].split(","))
    signed = f"{parts['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture(autouse=True)
def _consumers_forgotten():
    outbox_consumers_changed()
    yield
    outbox_consumers_changed()


@pytest.fixture
def allowed(settings, monkeypatch):
    """Private targets allowed here and in workers started after it; retries fast."""
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = True
    monkeypatch.setenv("FLOWDESK_ALLOW_PRIVATE_TARGETS", "1")
    monkeypatch.setenv("FLOWDESK_WEBHOOK_RETRY_BASE", "0.2")
    settings.FLOWDESK_OUTBOX = {**settings.FLOWDESK_OUTBOX, "WEBHOOK_RETRY_BASE": 0.2}


def two_steps():
    return publish(
        KEY, [service_step("a", "test.noop", next=["b"]), service_step("b", "test.noop")]
    )


@pytest.mark.worker
def test_webhook__a_local_receiver_gets_signed_cloudevents(allowed, workers):
    two_steps()
    with Receiver() as receiver:
        webhook_subscription_create(
            url=receiver.url("/hook"),
            event_types=["WORKFLOW_STARTED", "WORKFLOW_COMPLETED"],
            definition_keys=[KEY],
            secret=SECRET,
        )
        workers.start("hooks", concurrency=2, beat=True)
        instance = instance_start(definition_key=KEY, business_key="B-7")
        wait_for(lambda: len(receiver.requests) >= 2, timeout=60, what="two webhook POSTs")
        bodies = sorted(receiver.requests, key=lambda r: int(json.loads(r.body)["id"]))
    started, completed = (json.loads(r.body) for r in bodies)
    history = dict(Event.objects.filter(instance=instance).values_list("type", "id").order_by("id"))
    assert (started["type"], started["id"]) == (
        "flowdesk.WORKFLOW_STARTED",
        str(history["WORKFLOW_STARTED"]),
    )
    assert completed["type"] == "flowdesk.WORKFLOW_COMPLETED"
    assert completed["subject"] == instance.pk
    assert completed["data"]["business_key"] == "B-7"
    for request in bodies:
        assert request.method == "POST" and request.path == "/hook"
        assert request.headers["content-type"] == "application/cloudevents+json"
        assert verified(request.headers, request.body, SECRET)
        assert not verified(request.headers, request.body + b" ", SECRET)
        assert not verified(request.headers, request.body, "another-secret-entirely")
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.worker
def test_webhook__500_500_200_makes_three_attempts(allowed, workers):
    two_steps()
    replies = [Reply(500, b"down"), Reply(500, b"still down"), Reply(200, b"thanks")]
    with Receiver(replies) as receiver:
        webhook_subscription_create(
            url=receiver.url("/hook"), event_types=["WORKFLOW_COMPLETED"], secret=SECRET
        )
        workers.start("hooks", concurrency=2, beat=True)
        instance_start(definition_key=KEY)
        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(status="delivered").first(),
            timeout=60,
            what="the delivery to succeed",
        )
        posted = list(receiver.requests)
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"),
        (2, 500, "retry"),
        (3, 200, "delivered"),
    ]
    assert [a.response_excerpt for a in attempts] == ["down", "still down", "thanks"]
    assert delivery.attempts == 3 and delivery.delivered_at is not None
    assert len(posted) == 3
    assert len({json.loads(r.body)["id"] for r in posted}) == 1  # the same event each time
    assert all(verified(r.headers, r.body, SECRET) for r in posted)


# --- In this process: one attempt at a time ---------------------------------------------------


@pytest.fixture
def one_delivery(db, settings):
    """A subscription to 127.0.0.1 (made while allowed) and one pending delivery for it."""

    def make(url: str, **subscription) -> WebhookDelivery:
        two_steps()
        WebhookSubscription.objects.create(
            url=url, secret=SECRET, event_types=["WORKFLOW_COMPLETED"], **subscription
        )
        outbox_consumers_changed()
        instance_start(definition_key=KEY)
        run_due_jobs()
        assert outbox_relay().deliveries == 1
        return WebhookDelivery.objects.get()

    return make


def test_webhook__a_private_target_is_refused_at_delivery_and_recorded(one_delivery, settings):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = False
    with Receiver() as receiver:
        delivery = one_delivery(receiver.url("/hook", host="localhost"))
        assert webhook_deliver(delivery_id=delivery.pk) == "refused"
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == "refused"
    [attempt] = delivery.tries.all()
    assert attempt.outcome == "refused" and attempt.status_code is None
    assert "127.0.0.1" in attempt.error or "::1" in attempt.error


def test_webhook__a_4xx_other_than_408_or_429_stops(allowed, one_delivery):
    with Receiver([Reply(410, b"gone")]) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"
        assert webhook_deliver(delivery_id=delivery.pk) is None  # nothing left to send
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 410")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
def test_webhook__408_429_and_5xx_are_tried_again_later(allowed, one_delivery, status):
    with Receiver([Reply(status)]) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        before = timezone.now()
        assert webhook_deliver(delivery_id=delivery.pk) == "retry"
        assert webhook_deliver(delivery_id=delivery.pk) is None  # not due yet
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.due_at > before
    assert delivery.dispatched_at is None  # the sweeper sends it when due


def test_webhook__retries_stop_24_hours_after_the_first_attempt(allowed, one_delivery):
    with Receiver(default=Reply(502)) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            window_started_at=timezone.now() - timedelta(hours=24)
        )
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "gave up" in delivery.last_error


def test_webhook__backoff_doubles_within_the_window(allowed, one_delivery, settings):
    settings.FLOWDESK_OUTBOX = {**settings.FLOWDESK_OUTBOX, "WEBHOOK_RETRY_BASE": 30.0}
    with Receiver(default=Reply(500)) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        gaps = []
        for _ in range(3):
            now = timezone.now()
            webhook_deliver(delivery_id=delivery.pk)
            delivery.refresh_from_db()
            gaps.append(round((delivery.due_at - now).total_seconds()))
            WebhookDelivery.objects.filter(pk=delivery.pk).update(due_at=now)
    assert gaps == [30, 60, 120]


def test_webhook__redeliver_sends_a_finished_delivery_again(allowed, one_delivery):
    with Receiver([Reply(404), Reply(200)]) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"
        webhook_delivery_redeliver(delivery=delivery)
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [a.outcome for a in delivery.tries.order_by("number")] == ["failed", "delivered"]


def test_webhook__the_secret_is_never_logged(allowed, one_delivery, caplog):
    with Receiver([Reply(500)]) as receiver:
        delivery = one_delivery(receiver.url("/hook"))
        with caplog.at_level("DEBUG"):
            webhook_deliver(delivery_id=delivery.pk)
    assert caplog.records
    assert SECRET not in caplog.text
