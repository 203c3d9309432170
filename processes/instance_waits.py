"""What an instance waits for, as display rows for the instance page and the admin.

Timers, message and signal subscriptions, and the messages kept for it; each kind of wait
is one function giving its rows, listed in `WAITS`, and the page's include shows them all
alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from accounts.permissions import can_control_instances
from processes import display
from processes.display import step_label
from processes.dsl.graph import BoundaryEvent, Graph
from processes.models import Message, ProcessInstance, Subscription, Timer
from processes.services.messages import subscription_cancellable
from processes.services.subscriptions import buffered_matching
from processes.statuses import InstanceStatus, SubscriptionStatus, TimerStatus


@dataclass(frozen=True)
class WaitRow:
    """One thing the instance waits for, as people read it."""

    kind: str  # "timer", "subscription", "message": what the row is
    id: int  # its row's id (the Timer's, Subscription's, Message's)
    step_id: str
    step: str  # the step's name
    what: str  # "Timer", "Interrupting timer", "Non-interrupting timer (2 of 3)"
    then: str  # the step a boundary event goes on at when it happens; "" for a timer step
    due_at: datetime | None
    overdue: bool
    # What the user may do with it now: a URL name taking (instance id, row id), its label.
    action: str = ""
    action_label: str = ""


def instance_waits(*, instance: ProcessInstance, user: Any) -> list[WaitRow]:
    """Everything `instance` waits for, soonest due first; with the actions `user` may take."""
    rows = [row for waits in WAITS for row in waits(instance, user)]
    return sorted(rows, key=lambda row: (row.due_at is None, row.due_at or timezone.now()))


def _timer_waits(instance: ProcessInstance, user: Any) -> list[WaitRow]:
    """Its scheduled timers: timer steps, and boundary timers named by their step and kind."""
    timers = list(
        Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).order_by("id")
    )
    if not timers:
        return []
    graph = instance.graph
    fired = _reminders_fired(instance, timers, graph)
    may_fire = instance.status == InstanceStatus.RUNNING and can_control_instances(user)
    now = timezone.now()
    return [
        WaitRow(
            kind="timer",
            id=timer.pk,
            step_id=timer.step_id,
            step=_step_name(graph, timer.step_id),
            what=_timer_kind(graph, timer, fired[timer.token_id, timer.boundary] + 1),
            then=_timer_then(graph, timer),
            due_at=timer.due_at,
            overdue=timer.due_at < now,
            action="instance-timer-fire" if may_fire else "",
            action_label="Fire now" if may_fire else "",
        )
        for timer in timers
    ]


def _reminders_fired(instance: ProcessInstance, timers: list[Timer], graph: Graph) -> Counter:
    """How often each repeating boundary timer (by token and event) has fired: one query, and
    only when one of `timers` repeats."""
    if not any(_repeats(graph, timer) for timer in timers):
        return Counter()
    rows = (
        Timer.objects.filter(instance=instance, status=TimerStatus.FIRED, boundary__isnull=False)
        .values_list("token_id", "boundary")
        .annotate(n=Count("id"))
    )
    return Counter({(token_id, boundary): n for token_id, boundary, n in rows})


def _repeats(graph: Graph, timer: Timer) -> bool:
    event = _event(graph, timer)
    return event is not None and not event.interrupting and event.repeat != 1


def _event(graph: Graph, wait: Timer | Subscription) -> BoundaryEvent | None:
    node = graph.nodes.get(wait.step_id)
    if node is None or wait.boundary is None or wait.boundary >= len(node.boundary):
        return None
    return node.boundary[wait.boundary]


def _timer_kind(graph: Graph, timer: Timer, firing: int | None = None) -> str:
    """The timer as the timeline names it: a timer step's, or a boundary timer by its kind;
    a repeating one says how often it fires (and, given `firing`, which firing is next)."""
    event = _event(graph, timer)
    if event is None:
        return "Timer"
    if event.interrupting:
        return "Interrupting timer"
    if event.repeat == 1:
        return "Non-interrupting timer"
    times = "forever" if event.repeat is None else f"{event.repeat} times"
    if firing is None:
        return f"Non-interrupting timer (repeats {times})"
    if event.repeat is None:
        return f"Non-interrupting timer ({firing}, repeats forever)"
    return f"Non-interrupting timer ({firing} of {event.repeat})"


def timer_label(timer: Timer) -> str:
    """Which wait `timer` is, for a list of timers of any status (the admin): "Timer",
    "Interrupting timer → Approve (escalated)", "Non-interrupting timer (repeats 3 times) →
    Remind"."""
    graph = timer.instance.graph
    then = _timer_then(graph, timer)
    return _timer_kind(graph, timer) + (f" → {then}" if then else "")


def _timer_then(graph: Graph, wait: Timer | Subscription) -> str:
    event = _event(graph, wait)
    return _step_name(graph, event.next) if event is not None else ""


def _subscription_waits(instance: ProcessInstance, user: Any) -> list[WaitRow]:
    """Its waiting message and signal subscriptions, by name and key; a wait whose step
    would be left waiting for nothing offers no "Stop waiting"."""
    waiting = list(
        Subscription.objects.filter(instance=instance, status=SubscriptionStatus.WAITING)
    )
    if not waiting:
        return []
    graph = instance.graph
    may_cancel = instance.status == InstanceStatus.RUNNING and can_control_instances(user)
    rows = []
    for subscription in waiting:
        cancellable = may_cancel and subscription_cancellable(subscription)
        rows.append(
            WaitRow(
                kind="subscription",
                id=subscription.pk,
                step_id=subscription.step_id,
                step=_step_name(graph, subscription.step_id),
                what=subscription_label(graph, subscription),
                then=_timer_then(graph, subscription),
                due_at=None,
                overdue=False,
                action="instance-subscription-cancel" if cancellable else "",
                action_label="Stop waiting" if cancellable else "",
            )
        )
    return rows


def subscription_label(graph: Graph, subscription: Subscription) -> str:
    """ "Message “payment-received” (key INV-7)", "Interrupting signal “recall”"."""
    event = _event(graph, subscription)
    if event is None:
        kind = subscription.kind.capitalize()
    else:
        kind = f"{'Interrupting' if event.interrupting else 'Non-interrupting'} {event.type}"
    label = f"{kind} “{subscription.name}”"
    if subscription.correlation_key:
        label += f" (key {subscription.correlation_key})"
    return label


def _kept_messages(instance: ProcessInstance, user: Any) -> list[WaitRow]:
    """Messages kept (sent with a ttl) that its waits match: they arrive when it runs again."""
    if instance.status == InstanceStatus.RUNNING:
        return []  # a running instance took them as they came or as its waits opened
    waiting = Subscription.objects.filter(instance=instance, status=SubscriptionStatus.WAITING)
    graph = instance.graph
    rows = []
    for subscription in waiting.filter(kind="message"):
        for message in buffered_matching(subscription, business_key=instance.business_key):
            rows.append(_kept_row(graph, subscription, message))
    return rows


def _kept_row(graph: Graph, subscription: Subscription, message: Message) -> WaitRow:
    return WaitRow(
        kind="message",
        id=message.pk,
        step_id=subscription.step_id,
        step=_step_name(graph, subscription.step_id),
        what=f"Message “{message.name}” kept for it until {display.when(message.expires_at)}",
        then="",
        due_at=None,
        overdue=False,
    )


def _step_name(graph: Graph, step_id: str) -> str:
    node = graph.nodes.get(step_id)
    return step_label(node.name if node else "", step_id)


WAITS: tuple[Callable[[ProcessInstance, Any], list[WaitRow]], ...] = (
    _timer_waits,
    _subscription_waits,
    _kept_messages,
)
