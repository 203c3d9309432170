"""Subscriptions: the messages and signals tokens wait for, opened, delivered and cancelled
inside an instance change.

Lock order: the instance row (held by the change), then the subscription or buffered
message row, then — for a message name — a transaction-level advisory lock on the name
(`message_name_lock`): shared by the changes that open waits (so they never block one
another), exclusive for `message_correlate` when it is about to buffer a message, which it
does holding no instance lock. The two paths cannot deadlock, and a message buffered while
a wait for it opens is seen by one of the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from processes.engine.expressions import ExpressionError, render
from processes.engine.kinds import kind_of
from processes.models import Message, Subscription
from processes.nodes import node_kind
from processes.rows import row_insert
from processes.services.history import waits_cancel
from processes.statuses import EventType, MessageStatus, SubscriptionKind, SubscriptionStatus
from processes.variables import variables_check, variables_size_check

RECEIVED = {
    SubscriptionKind.MESSAGE: EventType.MESSAGE_RECEIVED,
    SubscriptionKind.SIGNAL: EventType.SIGNAL_RECEIVED,
}
KEY_LENGTH = 200

if TYPE_CHECKING:
    from processes.services.advance import Change


def correlation_key_render(template: str, variables: dict[str, Any]) -> str:
    """A subscription's correlation key: its template rendered now, as text (a number is
    written in decimal). ExpressionError for anything else."""
    if not template:
        return ""
    value = render(template, variables)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ExpressionError(template, f"gives {kind_of(value)}, not a text or a whole number")
    key = str(value)
    if len(key) > KEY_LENGTH:
        raise ExpressionError(template, f"gives a key longer than {KEY_LENGTH} characters")
    return key


def subscription_open(
    change: Change,
    *,
    token_id: int,
    step_id: str,
    kind: str,
    name: str,
    correlation_key: str = "",
    boundary: int | None = None,
) -> Subscription:
    """A waiting Subscription for the token at `step_id`, with its SUBSCRIPTION_OPENED
    event. The caller then offers buffered messages (`subscriptions_take_buffered`) once
    everything the step arms is in place."""
    subscription = Subscription(
        instance=change.instance,
        token_id=token_id,
        step_id=step_id,
        boundary=boundary,
        kind=kind,
        name=name,
        correlation_key=correlation_key,
    )
    row_insert(subscription)
    change.log.add_by_engine(EventType.SUBSCRIPTION_OPENED, step_id, **described(subscription))
    return subscription


def subscriptions_take_buffered(change: Change, subscriptions: Iterable[Subscription]) -> None:
    """Deliver to the first of `subscriptions` (message ones) that a buffered message
    matches, oldest message first; a delivery may end the others (a deferred choice, an
    interrupting boundary), so one is delivered at most. Locks the message row, after the
    name's advisory lock."""
    for subscription in subscriptions:
        if subscription.kind != SubscriptionKind.MESSAGE:
            continue
        message_name_lock(subscription.name, shared=True)
        message = (
            buffered_matching(subscription, business_key=change.instance.business_key)
            .select_for_update(skip_locked=True)
            .first()
        )
        if message is None:
            continue
        message.deliver(change.instance)
        message.save()
        subscription_deliver(change, subscription, variables=message.variables, buffered=True)
        return


def buffered_matching(subscription: Subscription, *, business_key: str):
    """The buffered, unexpired messages `subscription` would take, oldest first."""
    return Message.objects.filter(
        Q(correlation_key__isnull=True) | Q(correlation_key=subscription.correlation_key),
        Q(business_key__isnull=True) | Q(business_key=business_key),
        name=subscription.name,
        status=MessageStatus.BUFFERED,
        expires_at__gt=timezone.now(),
    ).order_by("created_at", "id")


def subscription_deliver(
    change: Change, subscription: Subscription, *, variables: dict[str, Any], **details: Any
) -> None:
    """A message or signal reached `subscription`: merge its variables, record it (as the
    change's actor, the sender), and let the step's kind move on. InvalidInput when the
    variables do not fit the instance's declarations or its size limit."""
    if variables:
        graph = change.graph
        variables_check(declared=graph.variables, values=variables, strict=graph.strict_variables)
        merged = {**change.instance.variables, **variables}
        variables_size_check(merged)
        change.instance.variables = merged
    change.log.add(
        RECEIVED[subscription.kind],
        subscription.step_id,
        **described(subscription),
        variables=variables,
        **details,
    )
    node = change.graph.node(subscription.step_id)
    node_kind(node).subscription_deliver(change, subscription)


def subscriptions_cancel(
    change: Change, subscriptions: Iterable[Subscription], *, by_engine: bool, **details: Any
) -> None:
    """Cancel `subscriptions` with their SUBSCRIPTION_CANCELLED events: the engine's when a
    step finished first, the change's actor's when a person terminated or cancelled."""
    waits_cancel(
        change,
        subscriptions,
        event=EventType.SUBSCRIPTION_CANCELLED,
        described=described,
        by_engine=by_engine,
        **details,
    )


def token_waits_cancel(change: Change, *, token_id: int) -> None:
    """What else the token waited for (boundary events, a deferred choice's other events)
    is over: its scheduled timers and waiting subscriptions are cancelled, by the engine.
    Locks those rows (under the instance lock)."""
    from processes.models import Timer
    from processes.services.timers import timers_cancel
    from processes.statuses import TimerStatus

    timers = Timer.objects.filter(token_id=token_id, status=TimerStatus.SCHEDULED)
    timers_cancel(change, timers.select_for_update(of=("self",)), by_engine=True)
    waiting = Subscription.objects.filter(token_id=token_id, status=SubscriptionStatus.WAITING)
    subscriptions_cancel(change, waiting.select_for_update(of=("self",)), by_engine=True)


def message_name_lock(name: str, *, shared: bool = False) -> None:
    """Hold a transaction-level lock on a message name (PostgreSQL; SQLite has one writer).

    Opening waits take it shared: they never block each other, whatever order they take
    several names in; buffering a message takes it exclusive, holding no other lock."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, hashtext(%s))", [MESSAGE_LOCK_SPACE, name])


# The first key of the two-key advisory locks on message names ("FD" + "ms").
MESSAGE_LOCK_SPACE = 0x46446D73


def described(subscription: Subscription) -> dict[str, Any]:
    described = {
        "subscription_id": subscription.pk,
        "kind": subscription.kind,
        "name": subscription.name,
    }
    if subscription.correlation_key:
        described["correlation_key"] = subscription.correlation_key
    if subscription.boundary is not None:
        described["boundary"] = subscription.boundary
    return described
