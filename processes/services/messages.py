"""Events from outside: messages (to the one waiting step that matches), signals (to every
waiting step), and an event raised on one instance.

    message_correlate(name="payment-received", correlation_key="A-17", variables={...})
    signal_broadcast(name="quarter-closed")
    instance_raise_event(instance=instance, name="approved", payload={...})

Each delivery is one unit of work on the receiving instance: its row lock first, then the
subscription row (see `processes.services.subscriptions` for the whole lock order). Two
messages racing for one waiting step: the first to lock the instance takes the
subscription; the second finds it delivered, looks again, and is buffered or refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.permissions import can_control_instances, require
from processes import metrics
from processes.errors import Conflict, InvalidInput, NotFound
from processes.models import Message, ProcessInstance, Subscription
from processes.selectors import instance_get_visible, wait_owner_get
from processes.services.advance import instance_change
from processes.services.history import reason_checked
from processes.services.subscriptions import (
    KEY_LENGTH,
    message_name_lock,
    subscription_deliver,
    subscriptions_cancel,
)
from processes.services.triggers import trigger_start_by_message
from processes.statuses import InstanceStatus, SubscriptionKind, SubscriptionStatus
from processes.variables import storable_check, variables_size_check

logger = logging.getLogger(__name__)
NAME_LENGTH = 200
MAX_TTL_SECONDS = 366 * 86400
# A message that lost its subscription to a racing one looks again this often.
_ATTEMPTS = 3


@dataclass(frozen=True)
class MessageOutcome:
    outcome: str  # "delivered", "buffered" or "started"
    instance_id: str | None = None  # where it was delivered, or the instance it started
    message_id: int | None = None  # the buffered message


def message_correlate(
    *,
    name: str,
    correlation_key: str | int | None = None,
    business_key: str | None = None,
    variables: dict[str, Any] | None = None,
    ttl_seconds: float | None = None,
    user: Any = None,
) -> MessageOutcome:
    """Deliver message `name` to the one waiting subscription it matches (by correlation
    key and/or the instance's business key; either left out matches any), or start an
    instance through a definition's message trigger, or — with `ttl_seconds` — keep it for
    the first matching subscription opened within that time.

    InvalidInput when `variables` do not fit the receiving instance's declared variables
    (nothing is delivered). NotFound when nothing matches and there is no ttl; Conflict
    when several waiting instances match (name a key). Locks the receiving instance, then
    its subscription; a buffered message is written under the name's advisory lock (never
    with an instance lock held).
    """
    require(user, can_control_instances, "only managers and admins may send messages")
    name = _name(name, "name")
    key = _key(correlation_key)
    if business_key is not None and (not isinstance(business_key, str) or len(business_key) > 200):
        raise InvalidInput("business_key must be a text of at most 200 characters")
    values = _variables(variables)
    ttl = _ttl(ttl_seconds)
    waiting = _waiting_for(name, key, business_key)
    for _ in range(_ATTEMPTS):
        delivered = _deliver_to_one(waiting, values, user=user, name=name, key=key)
        if delivered is not None:
            return _counted(MessageOutcome("delivered", instance_id=delivered))
        if not waiting.exists():
            break
    started = trigger_start_by_message(
        name=name, variables=values, business_key=business_key, user=user
    )
    if started is not None:
        return _counted(MessageOutcome("started", instance_id=started.pk))
    if ttl is not None:
        message_id = _buffer(
            waiting,
            name=name,
            key=key,
            business_key=business_key,
            variables=values,
            ttl=ttl,
            user=user,
        )
        if message_id is not None:
            return _counted(MessageOutcome("buffered", message_id=message_id))
        # A subscription opened while it was about to be buffered: deliver to it.
        delivered = _deliver_to_one(waiting, values, user=user, name=name, key=key)
        if delivered is not None:
            return _counted(MessageOutcome("delivered", instance_id=delivered))
    metrics.record_message(outcome="refused")
    keyed = f" with correlation key {key!r}" if key is not None else ""
    raise NotFound(
        f"no instance waits for message {name!r}{keyed}; send it with ttl_seconds to keep"
        " it until one does"
    )


def signal_broadcast(
    *, name: str, variables: dict[str, Any] | None = None, user: Any = None
) -> int:
    """Deliver signal `name` to every waiting signal subscription of a running instance
    (catch steps and boundary events); returns how many it reached. Nothing is kept: an
    instance that reaches its signal step later waits for the next one. Each instance is
    its own unit of work (its row lock, then its subscription rows); one whose declared
    variables refuse the signal's is left waiting, and the others still get it."""
    require(user, can_control_instances, "only managers and admins may broadcast signals")
    name = _name(name, "name")
    values = _variables(variables)
    waiting = Subscription.objects.filter(
        kind=SubscriptionKind.SIGNAL,
        name=name,
        status=SubscriptionStatus.WAITING,
        instance__status=InstanceStatus.RUNNING,
    )
    reached = 0
    for instance_id in waiting.values_list("instance_id", flat=True).distinct():
        try:
            reached += _signal_instance(waiting, instance_id, values, user=user)
        except InvalidInput as error:
            logger.warning("signal %r not delivered to %s: %s", name, instance_id, error)
    return reached


def _signal_instance(waiting: QuerySet, instance_id: str, values: dict, *, user: Any) -> int:
    with instance_change(instance_id, actor=user) as change:
        if change.instance.status != InstanceStatus.RUNNING:
            return 0
        reached = 0
        mine = waiting.filter(instance_id=instance_id).select_for_update(of=("self",))
        for subscription in mine.order_by("id"):
            # An earlier one's path may have ended this one (an interrupt, a choice).
            if not Subscription.objects.filter(
                pk=subscription.pk, status=SubscriptionStatus.WAITING
            ).exists():
                continue
            subscription_deliver(change, subscription, variables=values)
            reached += 1
    return reached


def instance_raise_event(
    *, instance: ProcessInstance, name: str, payload: dict[str, Any] | None = None, user: Any = None
) -> ProcessInstance:
    """Deliver event `name` to `instance`'s waiting subscription of that name (a message or
    a signal step, or a boundary event), merging `payload` into its variables.

    NotFound when the caller may not see the instance, or it waits for no such event;
    NotAllowed when they may see but not control it; Conflict when it is not running.
    Locks the instance row, then the subscription row.
    """
    if user is not None:
        instance = instance_get_visible(instance_id=instance.pk, user=user)
    require(user, can_control_instances, "only managers and admins may raise events")
    name = _name(name, "name")
    values = _variables(payload)
    with instance_change(instance.pk, actor=user) as change:
        if change.instance.status != InstanceStatus.RUNNING:
            raise Conflict(f"cannot raise an event on an instance that is {change.instance.status}")
        waiting = Subscription.objects.filter(
            instance=change.instance, status=SubscriptionStatus.WAITING
        )
        subscription = (
            waiting.filter(name=name).order_by("id").select_for_update(of=("self",)).first()
        )
        if subscription is None:
            names = sorted(set(waiting.values_list("name", flat=True)))
            waits = f"it waits for: {', '.join(names)}" if names else "it waits for no event"
            raise NotFound(f"instance {instance.pk} does not wait for event {name!r} ({waits})")
        subscription_deliver(change, subscription, variables=values)
    return change.instance


def _waiting_for(name: str, key: str | None, business_key: str | None) -> QuerySet:
    waiting = Subscription.objects.filter(
        kind=SubscriptionKind.MESSAGE,
        name=name,
        status=SubscriptionStatus.WAITING,
        instance__status=InstanceStatus.RUNNING,
    )
    if key is not None:
        waiting = waiting.filter(correlation_key=key)
    if business_key is not None:
        waiting = waiting.filter(instance__business_key=business_key)
    return waiting


def _deliver_to_one(
    waiting: QuerySet, values: dict[str, Any], *, user: Any, name: str, key: str | None
) -> str | None:
    """Deliver to the one subscription `waiting` selects; the instance's id, or None when
    none waits or a racing message took it first."""
    found = list(waiting.order_by("id").values_list("id", "instance_id")[:2])
    if not found:
        return None
    if len(found) > 1:
        metrics.record_message(outcome="refused")
        raise Conflict(
            f"several instances wait for message {name!r}"
            + (f" with correlation key {key!r}" if key is not None else "")
            + ": give a correlation_key or business_key that names one"
        )
    subscription_id, instance_id = found[0]
    with instance_change(instance_id, actor=user) as change:
        if change.instance.status != InstanceStatus.RUNNING:
            return None
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .filter(pk=subscription_id, status=SubscriptionStatus.WAITING)
            .first()
        )
        if subscription is None:
            return None
        subscription_deliver(change, subscription, variables=values)
    return instance_id


def _buffer(waiting: QuerySet, *, name, key, business_key, variables, ttl, user) -> int | None:
    """Keep the message for `ttl` seconds; None (nothing written) when a subscription it
    matches was opened meanwhile. Under the name's advisory lock, which a subscription
    that opens takes before it looks for buffered messages."""
    with transaction.atomic():
        message_name_lock(name)
        if waiting.exists():
            return None
        message = Message.objects.create(
            name=name,
            correlation_key=key,
            business_key=business_key,
            variables=variables,
            expires_at=timezone.now() + timedelta(seconds=ttl),
            sent_by=user if getattr(user, "is_authenticated", False) else None,
        )
    return message.pk


def messages_expire() -> int:
    """Buffered messages whose ttl passed are marked expired; returns how many."""
    expired = Message.objects.filter(status="buffered", expires_at__lte=timezone.now())
    return expired.update(status="expired")


def _counted(outcome: MessageOutcome) -> MessageOutcome:
    metrics.record_message(outcome=outcome.outcome)
    return outcome


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a non-empty text", field_errors={field: ["required"]})
    if len(value) > NAME_LENGTH:
        raise InvalidInput(f"{field} is longer than {NAME_LENGTH} characters")
    storable_check({field: value})
    return value


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(
            "correlation_key must be a text or a whole number",
            field_errors={"correlation_key": ["must be a text or a whole number"]},
        )
    key = str(value)
    if len(key) > KEY_LENGTH:
        raise InvalidInput(f"correlation_key is longer than {KEY_LENGTH} characters")
    storable_check({"correlation_key": key})
    return key


def _variables(values: Any) -> dict[str, Any]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput("variables must be an object", field_errors={"variables": ["object"]})
    storable_check({"variables": values})
    variables_size_check(values)
    return values


def _ttl(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value:
        raise InvalidInput("ttl_seconds must be a positive number of seconds")
    if value > MAX_TTL_SECONDS:
        raise InvalidInput(f"ttl_seconds must be at most {MAX_TTL_SECONDS} (366 days)")
    return float(value)


def subscription_cancel(
    *, subscription_id: int, reason: str, user: Any = None, instance_id: str | None = None
) -> Subscription:
    """An operator stops a wait for a message or signal (a boundary event, or one of a
    deferred choice's events), saying why; SUBSCRIPTION_CANCELLED records who and why.

    Refused (Conflict) when it is the last thing a token waits for: the step would wait for
    nothing, forever; terminate the instance or raise the event instead. NotFound for a
    subscription of an instance the caller may not see; NotAllowed when they may see but
    not control it; given `instance_id`, the subscription must be that instance's. Locks
    the instance row, then the subscription row.
    """
    subscription_id, instance_id = wait_owner_get(
        model=Subscription,
        wait_id=subscription_id,
        instance_id=instance_id,
        user=user,
        what="subscription",
    )
    require(user, can_control_instances, "only managers and admins may cancel a wait")
    reason = reason_checked(reason)
    with instance_change(instance_id, actor=user) as change:
        subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        if subscription.status != SubscriptionStatus.WAITING:
            raise Conflict(f"the wait for {subscription.name!r} is {subscription.status} already")
        if not subscription_cancellable(subscription):
            raise Conflict(
                f"step {subscription.step_id!r} waits for nothing but {subscription.name!r}:"
                " raise the event or terminate the instance instead"
            )
        subscriptions_cancel(change, [subscription], by_engine=False, reason=reason)
    return subscription


def subscription_cancellable(subscription: Subscription) -> bool:
    """Whether stopping this wait leaves its step waiting for something: it is a boundary
    event, or its token waits for more (a deferred choice's other events, a timeout)."""
    from processes.models import Timer
    from processes.statuses import TimerStatus

    if subscription.boundary is not None:
        return True
    token_id = subscription.token_id
    return (
        Subscription.objects.filter(token_id=token_id, status=SubscriptionStatus.WAITING)
        .exclude(pk=subscription.pk)
        .exists()
        or Timer.objects.filter(
            token_id=token_id, status=TimerStatus.SCHEDULED, boundary__isnull=True
        ).exists()
    )
