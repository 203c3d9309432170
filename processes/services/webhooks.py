"""Webhooks: subscriptions, the fan-out of outbox events to deliveries, and their POSTs.

A subscription names a URL, the event types (empty: all) and definition keys (empty: all)
it wants, and a secret. The outbox relay calls `webhook_deliveries_create` in its batch's
transaction: one `WebhookDelivery` per matching (event, active subscription), sent on commit
by a Celery job (`webhook_deliver`). Each attempt POSTs the event's CloudEvent (structured
mode, `application/cloudevents+json`) through the guarded client (processes.outbound),
signed with `Flowdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`,
and is recorded as a `WebhookAttempt`. A 2xx delivers it; a network error, a timeout, 408,
429 or a 5xx schedules another attempt (WEBHOOK_RETRY_BASE seconds, doubling, at most
WEBHOOK_RETRY_MAX apart) until WEBHOOK_RETRY_FOR (24 h) after the first; any other status
fails it; a target the guard refuses (a private address) refuses it. `due_at` is the
truth: the sweeper sends what is due, so a retry survives restarts. "Redeliver" (admin)
sends a delivery again with a fresh retry window.

Secrets: stored (they must be, to sign); the API returns one only in the answer to its
create; never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import require
from processes.errors import InvalidInput
from processes.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from processes.outbound import (
    OutboundError,
    OutboundRefused,
    outbound_request,
    outbound_url_check,
)
from processes.services.outbox import outbox_consumers_changed
from processes.statuses import EventType

DELIVER_TASK = "flowdesk.webhook_deliver"  # the name processes.jobs registers it under
CONTENT_TYPE = "application/cloudevents+json"
SIGNATURE_HEADER = "Flowdesk-Signature"
EXCERPT_BYTES = 2048
SECRET_MIN_CHARS = 16
LEASE_GRACE = 30.0  # seconds past the timeout before a claimed delivery is due again
REDISPATCH_AFTER = 60.0  # a delivery sent to the broker and not taken for this long: again
BATCH = 500
Status = WebhookDelivery.Status
logger = logging.getLogger(__name__)


def _setting(name: str) -> Any:
    return settings.FLOWDESK_OUTBOX[name]


def can_manage_webhooks(user: Any) -> bool:
    """Admins (the admin role has every permission of the app); managers do not."""
    return user.has_perm("processes.change_webhooksubscription")


# --- Signing -------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Flowdesk-Signature` header value: `t=<timestamp>,v1=<hex HMAC-SHA256 of
    "<timestamp>.<body>" keyed with the secret>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# --- Subscriptions -------------------------------------------------------------------------


def _checked_fields(values: dict[str, Any]) -> dict[str, Any]:
    """`values` (any of url, event_types, definition_keys, secret, description, active)
    checked; InvalidInput naming every field with a problem."""
    problems: dict[str, list[str]] = {}
    if "url" in values:
        try:
            outbound_url_check(values["url"])
        except OutboundRefused as exc:
            problems["url"] = [f"refused: {exc}"]
        except OutboundError as exc:
            problems["url"] = [str(exc)]
    if "event_types" in values:
        types = values["event_types"] or []
        unknown = [t for t in types if t not in EventType.values]
        if unknown:
            problems["event_types"] = [f"unknown event type(s): {', '.join(map(str, unknown))}"]
        values["event_types"] = list(dict.fromkeys(types))
    if "definition_keys" in values:
        values["definition_keys"] = list(dict.fromkeys(values["definition_keys"] or []))
    if values.get("secret") is not None and len(values["secret"]) < SECRET_MIN_CHARS:
        problems["secret"] = [f"at least {SECRET_MIN_CHARS} characters"]
    if problems:
        raise InvalidInput(
            f"invalid webhook: {', '.join(problems)}",
            field_errors=problems,
        )
    return values


def webhook_subscription_create(
    *,
    url: str,
    event_types: list[str] | None = None,
    definition_keys: list[str] | None = None,
    secret: str | None = None,
    description: str = "",
    active: bool = True,
    user: Any = None,
) -> WebhookSubscription:
    """A new subscription (admins only). The URL must pass the outbound guard now (it is
    checked again at every delivery). Without a `secret` one is generated; the caller shows
    it once (`subscription.secret`)."""
    require(user, can_manage_webhooks, "only admins manage webhooks")
    values = _checked_fields(
        {
            "url": url,
            "event_types": event_types,
            "definition_keys": definition_keys,
            "secret": secret,
        }
    )
    subscription = WebhookSubscription.objects.create(
        url=values["url"],
        event_types=values["event_types"],
        definition_keys=values["definition_keys"],
        secret=values["secret"] or secrets.token_urlsafe(32),
        description=description,
        active=active,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    outbox_consumers_changed()
    return subscription


def webhook_subscription_update(
    *, subscription: WebhookSubscription, user: Any = None, **values: Any
) -> WebhookSubscription:
    """Change any of url, event_types, definition_keys, secret, description, active."""
    require(user, can_manage_webhooks, "only admins manage webhooks")
    allowed = {"url", "event_types", "definition_keys", "secret", "description", "active"}
    values = _checked_fields({k: v for k, v in values.items() if k in allowed})
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.save()
    outbox_consumers_changed()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription, user: Any = None) -> None:
    """Delete it with its deliveries and their attempts."""
    require(user, can_manage_webhooks, "only admins manage webhooks")
    subscription.delete()
    outbox_consumers_changed()


# --- Fan-out (in the relay's transaction) ----------------------------------------------------


@dataclass(frozen=True)
class FanOut:
    created: int
    event_ids: set[int]  # the events that got at least one delivery


def webhook_deliveries_create(*, events: list[OutboxEvent]) -> FanOut:
    """A pending delivery per (event, matching active subscription), sent once committed."""
    if not events:
        return FanOut(0, set())
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    if not subscriptions:
        return FanOut(0, set())
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            subscription=subscription,
            event=event,
            due_at=now,
            window_started_at=now,
            dispatched_at=now,
        )
        for event in events
        for subscription in subscriptions
        if subscription.matches(
            event_type=event.cloudevent["type"].removeprefix("flowdesk."),
            definition_key=event.cloudevent["data"]["definition_key"],
        )
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _send(ids))
    return FanOut(len(deliveries), {d.event_id for d in deliveries})


def _send(delivery_ids: list[int]) -> None:
    for sent, delivery_id in enumerate(delivery_ids):
        try:
            current_app.send_task(DELIVER_TASK, args=(delivery_id,))
        except Exception:  # noqa: BLE001 - the rows are committed; the sweeper sends them
            logger.warning(
                "could not send %d webhook deliveries; the sweeper will", len(delivery_ids) - sent
            )
            return


def webhook_deliveries_dispatch_due() -> int:
    """The sweeper's part: send the pending deliveries that are due and that were not sent
    within REDISPATCH_AFTER (SKIP LOCKED: two sweeps never send one twice)."""
    now = timezone.now()
    stale = now - timedelta(seconds=REDISPATCH_AFTER)
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, due_at__lte=now)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
            .order_by("due_at")
            .values_list("id", flat=True)[:BATCH]
        )
        if due:
            WebhookDelivery.objects.filter(pk__in=due).update(dispatched_at=now)
            transaction.on_commit(lambda: _send(due))
    return len(due)


# --- Delivering ------------------------------------------------------------------------------


def webhook_deliver(*, delivery_id: int) -> str | None:
    """One attempt of a pending, due delivery; None when there is none to make (delivered,
    not due, or another worker has it). Claims it by pushing `due_at` past the attempt (a
    lease: if this worker dies it is due again), POSTs without holding a transaction, then
    records the attempt and what follows. Returns the attempt's outcome."""
    timeout = _setting("WEBHOOK_TIMEOUT")
    now = timezone.now()
    lease = now + timedelta(seconds=timeout + LEASE_GRACE)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, due_at__lte=now
    ).update(due_at=lease)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    subscription = delivery.subscription
    body = json.dumps(delivery.event.cloudevent, separators=(",", ":")).encode()
    headers = {
        "Content-Type": CONTENT_TYPE,
        SIGNATURE_HEADER: webhook_signature(
            secret=subscription.secret, timestamp=int(time.time()), body=body
        ),
        "Flowdesk-Delivery": str(delivery.pk),
    }
    started = timezone.now()
    clock = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        response = outbound_request(
            "POST",
            subscription.url,
            headers=headers,
            content=body,
            timeout=timeout,
            max_bytes=EXCERPT_BYTES,
            # A redirect would turn the POST into a GET and send the signature elsewhere.
            follow_redirects=False,
        )
    except OutboundRefused as exc:
        outcome, error = "refused", f"refused: {exc}"
    except OutboundError as exc:
        outcome, error = "retry", str(exc)
    else:
        status_code = response.status
        excerpt = response.text
        if 200 <= status_code < 300:
            outcome = "delivered"
        elif 300 <= status_code < 400:
            outcome, error = "failed", f"HTTP {status_code}: a webhook is not redirected"
        elif status_code in (408, 429) or status_code >= 500:
            outcome, error = "retry", f"HTTP {status_code}"
        else:
            outcome, error = "failed", f"HTTP {status_code}"
    duration_ms = round((time.monotonic() - clock) * 1000)
    return _attempt_record(
        delivery,
        lease=lease,
        started=started,
        duration_ms=duration_ms,
        status_code=status_code,
        excerpt=excerpt,
        error=error,
        outcome=outcome,
    )


def _attempt_record(
    delivery: WebhookDelivery, *, lease: Any, outcome: str, **attempt: Any
) -> str | None:
    """Record the attempt and what follows, if this worker still holds the delivery's
    `lease` (one that took too long lost it to another worker's attempt, which counts
    instead: None)."""
    now = timezone.now()
    number = delivery.attempts + 1
    updates: dict[str, Any] = {"attempts": number, "last_error": attempt["error"]}
    if outcome == "delivered":
        updates.update(status=Status.DELIVERED, delivered_at=now)
    elif outcome == "failed":
        updates["status"] = Status.FAILED
    elif outcome == "refused":
        updates["status"] = Status.REFUSED
    else:
        delay = min(
            _setting("WEBHOOK_RETRY_BASE") * 2 ** (number - 1), _setting("WEBHOOK_RETRY_MAX")
        )
        next_at = now + timedelta(seconds=delay)
        window_ends = delivery.window_started_at + timedelta(seconds=_setting("WEBHOOK_RETRY_FOR"))
        if next_at > window_ends:
            outcome = "failed"
            updates.update(
                status=Status.FAILED,
                last_error=f"{attempt['error']}; gave up: no answer within the retry window",
            )
        else:
            updates.update(due_at=next_at, dispatched_at=None)
    with transaction.atomic():
        held = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=Status.PENDING, due_at=lease
        ).update(**updates)
        if not held:
            logger.warning("webhook delivery %s: an attempt outlived its lease", delivery.pk)
            return None
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=attempt["started"],
            duration_ms=attempt["duration_ms"],
            status_code=attempt["status_code"],
            outcome=outcome,
            response_excerpt=attempt["excerpt"][:EXCERPT_BYTES],
            error=attempt["error"],
        )
    if outcome != "delivered":
        logger.info(
            "webhook delivery %s attempt %d: %s",
            delivery.pk,
            number,
            outcome,
            extra={"delivery_id": delivery.pk, "status_code": attempt["status_code"]},
        )
    return outcome


def webhook_delivery_redeliver(*, delivery: WebhookDelivery, user: Any = None) -> None:
    """Send a delivery again, whatever became of it, with a fresh retry window."""
    require(user, can_manage_webhooks, "only admins manage webhooks")
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.PENDING, due_at=now, window_started_at=now, dispatched_at=now
        )
        transaction.on_commit(lambda: _send([delivery.pk]))
