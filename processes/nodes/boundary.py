"""Boundary events: events on a step that waits (service, user), each sending the path on at
its own `next` when it happens: a timer, a message or a signal.

JSON ``"config": {"boundary": [{"type": "timer", "duration": "3d", "interrupting": true,
"next": "escalate"}]}`` (or `until`); ``{"type": "message", "message": "cancel-order",
"correlation_key": "${order_id}", "next": "cancelled"}``; ``{"type": "signal", "signal":
"...", "next": ...}``. YAML ``boundary:`` on a `task` or `user` state with the same keys.
An interrupting event (the default) cancels the step; a non-interrupting one starts a new
path beside it: a timer every `duration` up to `repeat` times (a number, or "forever"), a
message or signal each time one comes while the step waits.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processes.dsl.graph import BoundaryEvent, Node
from processes.nodes.base import NodeKind
from processes.nodes.message_catch import read_message
from processes.nodes.signal_catch import read_signal
from processes.nodes.timer import read_wait, wait_due_at

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.models import Subscription, Timer, Token
    from processes.services.advance import Change

TIMER, MESSAGE, SIGNAL = "timer", "message", "signal"
BOUNDARY_TYPES = (TIMER, MESSAGE, SIGNAL)
FOREVER = "forever"
# What each type of boundary event reads besides type, next and interrupting.
_OWN_KEYS = {
    TIMER: ("duration", "until", "repeat"),
    MESSAGE: ("message", "correlation_key"),
    SIGNAL: ("signal",),
}


def read_boundary(
    section: Section, key: str, link: Links, *, in_branch: bool = False
) -> tuple[BoundaryEvent, ...]:
    """``[{type, next, interrupting?, ...}]``: a step's boundary events; a timer reads
    `duration` | `until` and `repeat`, a message `message` and `correlation_key`, a signal
    `signal`. `in_branch`: the step is inside a YAML parallel branch, whose every path ends
    in the branch's join, so a path started beside the step would count as the branch's
    answer there: refused."""
    events = []
    for item in section.sections(key):
        kind = item.text("type", required=True)
        if kind and kind not in BOUNDARY_TYPES:
            item.problem("type", f"'type' must be one of: {', '.join(BOUNDARY_TYPES)}")
            continue
        target = item.text("next", required=True)
        interrupting = item.flag("interrupting") if item.has("interrupting") else True
        if in_branch and not interrupting:
            item.problem(
                "interrupting",
                "a non-interrupting event inside a parallel branch would reach the join as"
                " the branch's answer while the step still waits; put it on a step outside"
                " the parallel state",
            )
        if not kind:
            continue
        others = {key for keys in _OWN_KEYS.values() for key in keys} - set(_OWN_KEYS[kind])
        for stray in sorted(others):
            if item.has(stray):
                item.problem(stray, f"'{stray}' does not apply to a {kind} event")
        if kind == TIMER:
            what = {
                **read_wait(item, seconds_key="duration", until_key="until"),
                "repeat": _read_repeat(
                    item, interrupting=interrupting, has_duration=item.has("duration")
                ),
            }
        elif kind == MESSAGE:
            what = read_message(item, name_key="message", key_key="correlation_key")
        else:
            what = {"signal": read_signal(item, "signal")}
        if target:
            events.append(
                BoundaryEvent(
                    type=kind,
                    next=link(target, item.at("next")),
                    interrupting=interrupting,
                    **what,
                )
            )
    return tuple(events)


def boundary_refuse(kind: NodeKind, section: Section, type_name: str) -> None:
    """A step of a kind that carries no boundary events (a gateway, a timer) must not be
    written with some: they would be silently ignored."""
    if "boundary" not in kind.fields and section.has("boundary"):
        section.problem("boundary", f"a '{type_name}' step cannot have boundary events")


def _read_repeat(item: Section, *, interrupting: bool, has_duration: bool) -> int | None:
    """How many times a reminder fires: a whole number from 1, or "forever" (None)."""
    if not item.has("repeat"):
        return 1
    if interrupting:
        item.problem(
            "repeat", "'repeat' needs 'interrupting': false (an interrupting event fires once)"
        )
        return 1
    if not has_duration:
        item.problem("repeat", "'repeat' needs a 'duration' (the time between two firings)")
        return 1
    if item.data["repeat"] == FOREVER:
        return None
    if isinstance(item.data["repeat"], str):
        item.problem("repeat", f"'repeat' must be a whole number or \"{FOREVER}\"")
        return 1
    return item.integer("repeat", default=1, minimum=1)


class BoundaryHost(NodeKind, abstract=True):
    """A kind whose steps carry boundary events: arms them when a token rests at the step,
    fires them, and disarms them when the step finishes first (`token_waits_cancel`)."""

    @abstractmethod
    def holder_cancel(self, change: Change, token_id: int) -> None:
        """An interrupting event cancels the step: cancel what holds `token_id` there."""

    def boundary_arm(self, change: Change, node: Node, token: Token, prepared: list) -> None:
        """Arm each of the step's events (`prepared` by `boundary_prepare`) on `token`, the
        token resting at the step: a Timer for a timer, a Subscription for a message or
        signal; then offer the subscriptions the messages buffered for them."""
        from processes.services.subscriptions import (
            subscription_open,
            subscriptions_take_buffered,
        )
        from processes.services.timers import timer_schedule

        opened = []
        for index, (event, ready) in enumerate(zip(node.boundary, prepared, strict=True)):
            if event.type == TIMER:
                timer_schedule(
                    change, token_id=token.pk, step_id=node.id, due_at=ready, boundary=index
                )
                continue
            opened.append(
                subscription_open(
                    change,
                    token_id=token.pk,
                    step_id=node.id,
                    kind=event.type,
                    name=event.message or event.signal,
                    correlation_key=ready,
                    boundary=index,
                )
            )
        if opened:
            subscriptions_take_buffered(change, opened)

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """A boundary timer is due: interrupt the step, or start a path beside it (and set
        the next reminder)."""
        from processes.services.timers import timer_mark_fired, timer_schedule

        event = change.graph.node(timer.step_id).boundary[timer.boundary]
        timer_mark_fired(change, timer, reason=reason, interrupting=event.interrupting)
        if not event.interrupting:
            # Counted from the rows: a reminder's firings survive every restart with them.
            fired = timer.token.timers.filter(
                boundary=timer.boundary, fired_at__isnull=False
            ).count()
            if event.repeat is None or fired < event.repeat:
                timer_schedule(
                    change,
                    token_id=timer.token_id,
                    step_id=timer.step_id,
                    due_at=timer.fired_at + timedelta(seconds=event.wait_seconds),
                    boundary=timer.boundary,
                )
        self._boundary_happened(change, event, token_id=timer.token_id, step_id=timer.step_id)

    def subscription_deliver(self, change: Change, subscription: Subscription) -> None:
        """A boundary message or signal came: interrupt the step, or start a path beside
        it (the subscription stays open for the next one)."""
        event = change.graph.node(subscription.step_id).boundary[subscription.boundary]
        if event.interrupting:
            subscription.deliver()
            subscription.save()
        self._boundary_happened(
            change, event, token_id=subscription.token_id, step_id=subscription.step_id
        )

    def _boundary_happened(
        self, change: Change, event: BoundaryEvent, *, token_id: int, step_id: str
    ) -> None:
        from processes.services.advance import route_from, token_interrupt

        if event.interrupting:
            self.holder_cancel(change, token_id)
            token_interrupt(change, token_id=token_id, node_id=step_id)
        route_from(change, source=step_id, targets=(event.next,))


def boundary_prepare(node: Node, variables: dict[str, Any], *, now: datetime) -> list:
    """What arming each of the step's boundary events entered `now` needs: a timer's due
    time, a message's correlation key ("" for a signal). ExpressionError when a template
    cannot be evaluated (worked out before the step is entered, so it fails cleanly on the
    way in)."""
    if not node.boundary:
        return []
    from processes.services.subscriptions import correlation_key_render

    return [
        wait_due_at(event, variables, now=now)
        if event.type == TIMER
        else correlation_key_render(event.correlation_key, variables)
        for event in node.boundary
    ]
