"""The transactional outbox: lifecycle events leave for the bus and the webhooks.

Writing (`outbox_write`, called by `EventLog.save` on every change): each history event
of the change also becomes an `OutboxEvent` row holding its whole CloudEvent, in the same
transaction, so an event goes out if and only if its change committed. Rows are written
only when something consumes them: FLOWDESK_EVENT_BUS_URL is set, or an active webhook
subscription exists. That second answer is cached per process for
FLOWDESK_OUTBOX["CONSUMERS_CHECK_SECONDS"] (5 s): with no bus and no webhook a step costs
what it cost before the outbox existed (one SELECT per process every 5 s, not per step), and
a new subscription receives the events of changes made at most that long after it.

Relaying (`outbox_relay`, a Celery job woken on commit and by the sweeper): one relay at a
time (a PostgreSQL advisory lock held by its transaction; a second relay returns at once).
It takes a batch of unrelayed rows in id order (FOR UPDATE SKIP LOCKED), publishes each to
the bus with publisher confirms (when one is configured; in waves of one event per
instance, each wave confirmed before the next), fans each out to a
`WebhookDelivery` per matching subscription, and marks them relayed, in one transaction per
batch. Per instance, ids follow the history (an instance's changes commit one after the
other under its row lock), so publishing in id order keeps each instance's order. When the
bus is unreachable the batch stops at the first event it could not publish: the events
before it are marked, that one and every later one wait for the next relay. When RabbitMQ
refuses one message (a nack), that instance's later events in the batch wait with it;
other instances go on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from processes.event_bus import BusUnavailable, bus_configured, bus_publish_many
from processes.models import (
    Event,
    OutboxEvent,
    ProcessDefinition,
    ProcessInstance,
    WebhookDelivery,
)

RELAY_TASK = "flowdesk.outbox_relay"  # the name processes.jobs registers the relay under
# pg_try_advisory_xact_lock key of the relay: "FDOUTBOX" as a number.
RELAY_LOCK_KEY = 0x46444F5554424F58
WAKE_EVERY = 0.1  # seconds: a process wakes the relay at most this often on commit
logger = logging.getLogger(__name__)


def _outbox_setting(name: str) -> Any:
    return settings.FLOWDESK_OUTBOX[name]


# --- Is anyone listening? (per process, cached) --------------------------------------------

_consumers_lock = threading.Lock()
_consumers: tuple[float, bool] | None = None  # (checked at, answer)


def outbox_consumers() -> bool:
    """Whether events must be written to the outbox: the bus is configured, or an active
    webhook subscription exists (that answer trusted for CONSUMERS_CHECK_SECONDS)."""
    global _consumers
    if bus_configured():
        return True
    now = time.monotonic()
    cached = _consumers
    if cached is not None and now - cached[0] < _outbox_setting("CONSUMERS_CHECK_SECONDS"):
        return cached[1]
    from processes.models import WebhookSubscription

    answer = WebhookSubscription.objects.filter(active=True).exists()
    with _consumers_lock:
        _consumers = (now, answer)
    return answer


def outbox_consumers_changed() -> None:
    """Forget the cached answer in this process (a subscription was added or changed here);
    other processes see it within CONSUMERS_CHECK_SECONDS."""
    global _consumers
    with _consumers_lock:
        _consumers = None


# --- Writing -------------------------------------------------------------------------------

_definition_keys: dict[int, str] = {}  # definition id -> key (a key never changes)


def _definition_key(instance: ProcessInstance) -> str:
    key = _definition_keys.get(instance.definition_id)
    if key is None:
        key = ProcessDefinition.objects.values_list("key", flat=True).get(pk=instance.definition_id)
        _definition_keys[instance.definition_id] = key
    return key


def cloudevent_of(event: Event, *, instance: ProcessInstance, definition_key: str) -> dict:
    """The CloudEvents 1.0 form of a saved history event (structured mode, JSON)."""
    actor = event.actor.get_username() if event.actor_id else None
    return {
        "specversion": "1.0",
        "id": str(event.id),
        "source": f"{settings.FLOWDESK_EVENT_SOURCE}/process-definitions/{definition_key}",
        "type": f"flowdesk.{event.type}",
        "subject": instance.id,
        "time": event.created_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {
            "instance_id": instance.id,
            "definition_key": definition_key,
            "business_key": instance.business_key,
            "step": event.step_id or None,
            "actor": actor,
            "payload": event.payload,
        },
    }


def routing_key_of(definition_key: str, event_type: str) -> str:
    return f"{definition_key}.{event_type}".lower()


def outbox_write(*, instance: ProcessInstance, events: list[Event]) -> None:
    """Write an outbox row for each of `events` (saved, with their ids) in the caller's
    transaction, and wake the relay once it commits."""
    key = _definition_key(instance)
    rows = [
        OutboxEvent(
            id=event.id,
            instance_id=instance.id,
            routing_key=routing_key_of(key, event.type),
            cloudevent=cloudevent_of(event, instance=instance, definition_key=key),
            created_at=event.created_at,
        )
        for event in events
    ]
    _rows_insert(rows)
    transaction.on_commit(outbox_wake)


def _rows_insert(rows: list[OutboxEvent]) -> None:
    """One INSERT of `rows`, its SQL built once per row count (the ORM's bulk_create compiles
    it on every step: most of what the outbox would add to a step)."""
    fields = OutboxEvent._meta.concrete_fields
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(len(rows)), params)


@cache
def _insert_sql(count: int) -> str:
    quote = connection.ops.quote_name
    meta = OutboxEvent._meta
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    row = "(" + ", ".join(["%s"] * len(meta.concrete_fields)) + ")"
    values = ", ".join([row] * count)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608


_last_wake = 0.0


def outbox_wake() -> None:
    """Send the relay job (at most every WAKE_EVERY seconds per process: a relay that is
    running takes what was committed meanwhile in its next batch; the sweeper sends one
    for anything left)."""
    global _last_wake
    now = time.monotonic()
    if now - _last_wake < WAKE_EVERY:
        return
    _last_wake = now
    try:
        current_app.send_task(RELAY_TASK, expires=60)
    except Exception:  # noqa: BLE001 - the rows are committed; the sweeper wakes it later
        logger.warning("could not wake the outbox relay; the sweeper will")


# --- Relaying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayReport:
    relayed: int  # rows marked relayed (published and/or fanned out)
    published: int  # of which published to the bus
    deliveries: int  # webhook deliveries created
    stopped: str = ""  # why the relay stopped before the outbox was empty ("" : it was)
    busy: bool = False  # another relay held the lock


def outbox_relay(*, max_batches: int | None = None) -> RelayReport:
    """Relay batches until the outbox is empty, the bus fails, or `max_batches`. Takes the
    relay's advisory lock in each batch's transaction (one relay at a time) and locks the
    batch's rows (FOR UPDATE SKIP LOCKED)."""
    from processes.metrics import record_events_published
    from processes.services.webhooks import webhook_deliveries_create

    relayed = published = deliveries = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            if not _relay_lock():
                return RelayReport(relayed, published, deliveries, busy=True)
            rows = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(relayed_at__isnull=True)
                .order_by("id")[: _outbox_setting("BATCH")]
            )
            if not rows:
                return RelayReport(relayed, published, deliveries)
            done, stopped = _publish_in_order(rows) if bus_configured() else (rows, "")
            if bus_configured():
                published += len(done)
            with_deliveries = webhook_deliveries_create(events=done)
            deliveries += with_deliveries.created
            now = timezone.now()
            kept = with_deliveries.event_ids
            OutboxEvent.objects.filter(pk__in=[r.pk for r in done if r.pk in kept]).update(
                relayed_at=now
            )
            OutboxEvent.objects.filter(pk__in=[r.pk for r in done if r.pk not in kept]).delete()
            relayed += len(done)
        if bus_configured() and done:
            record_events_published(count=len(done))
        if stopped:
            return RelayReport(relayed, published, deliveries, stopped=stopped)
    return RelayReport(relayed, published, deliveries, stopped="max_batches")


def _relay_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: its transactions take the database's write lock
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s::bigint)", [RELAY_LOCK_KEY])
        return cursor.fetchone()[0]


def _publish_in_order(rows: list[OutboxEvent]) -> tuple[list[OutboxEvent], str]:
    """Publish `rows` (id order) in waves of at most one event per instance, each wave
    confirmed as a whole before the next (a round trip per wave, not per event, and an
    instance's event goes out only once its previous one is acked). Returns the rows
    RabbitMQ acked, and why it stopped early."""
    done: list[OutboxEvent] = []
    held: set[str] = set()  # instances one of whose events was refused: the rest waits
    remaining = rows
    while remaining:
        wave: list[OutboxEvent] = []
        later: list[OutboxEvent] = []
        in_wave: set[str] = set()
        for row in remaining:
            if row.instance_id in held:
                continue
            (later if row.instance_id in in_wave else wave).append(row)
            in_wave.add(row.instance_id)
        if not wave:
            break
        try:
            acked = bus_publish_many([(row.routing_key, row.cloudevent) for row in wave])
        except BusUnavailable as exc:
            logger.warning("event bus unavailable, %d event(s) wait: %s", len(rows), exc)
            return done, f"bus unavailable: {exc}"
        for row, ok in zip(wave, acked, strict=True):
            if ok:
                done.append(row)
            else:
                logger.warning(
                    "RabbitMQ nacked event %s; instance %s's later events wait",
                    row.pk,
                    row.instance_id,
                )
                held.add(row.instance_id)
        remaining = later
    # A refused event is tried again by the next relay (woken by the sweeper), not at once.
    return done, f"refused events of {len(held)} instance(s)" if held else ""


# --- For the sweeper, /health and /metrics --------------------------------------------------


def outbox_pending() -> int:
    """Events written and not yet relayed."""
    return OutboxEvent.objects.filter(relayed_at__isnull=True).count()


def outbox_sweep() -> None:
    """The sweeper's part: wake the relay when events wait, send the webhook deliveries that
    are due, and delete relayed events (with their deliveries) past KEEP_DAYS, except those
    a delivery still retries."""
    from processes.services.webhooks import webhook_deliveries_dispatch_due

    if OutboxEvent.objects.filter(relayed_at__isnull=True).exists():
        try:
            current_app.send_task(RELAY_TASK, expires=60)
        except Exception:  # noqa: BLE001 - the broker is down; the next sweep tries again
            logger.warning("could not send the outbox relay")
    webhook_deliveries_dispatch_due()
    kept_until = timezone.now() - timedelta(days=_outbox_setting("KEEP_DAYS"))
    # An event a webhook still retries (an admin's redelivery of an old one) stays with it.
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    OutboxEvent.objects.filter(relayed_at__lt=kept_until).exclude(
        pk__in=pending.values("event_id")
    ).delete()
