"""Boundary events: events on a step that waits (service, user), each sending the path on at
its own `next` when it happens. Only timers so far; a `type` names what an event waits for,
so messages and signals add a reader and a way to be armed here.

JSON ``"config": {"boundary": [{"type": "timer", "duration": "3d", "interrupting": true,
"next": "escalate"}]}`` (or `until`); YAML ``boundary:`` on a `task` or `user` state with the
same keys. An interrupting event (the default) cancels the step; a non-interrupting one starts
a new path beside it, every `duration` up to `repeat` times (a number, or "forever").
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processes.dsl.graph import BoundaryEvent, Node
from processes.nodes.base import NodeKind
from processes.nodes.timer import read_wait, wait_due_at

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.models import Timer, Token
    from processes.services.advance import Change

BOUNDARY_TYPES = ("timer",)
FOREVER = "forever"


def read_boundary(section: Section, key: str, link: Links) -> tuple[BoundaryEvent, ...]:
    """``[{type, next, interrupting?, duration | until, repeat?}]``: a step's boundary events."""
    events = []
    for item in section.sections(key):
        kind = item.text("type", required=True)
        if kind and kind not in BOUNDARY_TYPES:
            item.problem("type", f"'type' must be one of: {', '.join(BOUNDARY_TYPES)}")
            continue
        target = item.text("next", required=True)
        interrupting = item.flag("interrupting") if item.has("interrupting") else True
        wait = read_wait(item, seconds_key="duration", until_key="until")
        repeat = _read_repeat(item, interrupting=interrupting, has_duration=item.has("duration"))
        if kind and target:
            events.append(
                BoundaryEvent(
                    type=kind,
                    next=link(target, item.at("next")),
                    interrupting=interrupting,
                    repeat=repeat,
                    **wait,
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
    fires them, and disarms them when the step finishes first (`boundary_timers_cancel`)."""

    @abstractmethod
    def holder_cancel(self, change: Change, token_id: int) -> None:
        """An interrupting event cancels the step: cancel what holds `token_id` there."""

    def boundary_arm(self, change: Change, node: Node, token: Token, due: list[datetime]) -> None:
        """Schedule a Timer for each of the step's timer events (`due`, from `boundary_due`),
        linked to `token`, the token resting at the step."""
        from processes.services.timers import timer_schedule

        for index, due_at in enumerate(due):
            timer_schedule(
                change, token_id=token.pk, step_id=node.id, due_at=due_at, boundary=index
            )

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """A boundary timer is due: interrupt the step, or start a path beside it (and set
        the next reminder)."""
        from processes.services.advance import route_from, token_interrupt
        from processes.services.timers import timer_mark_fired, timer_schedule

        event = change.graph.node(timer.step_id).boundary[timer.boundary]
        timer_mark_fired(change, timer, reason=reason, interrupting=event.interrupting)
        if event.interrupting:
            self.holder_cancel(change, timer.token_id)
            token_interrupt(change, token_id=timer.token_id, node_id=timer.step_id)
            route_from(change, source=timer.step_id, targets=(event.next,))
            return
        # Counted from the rows: a reminder's firings survive every restart with them.
        fired = timer.token.timers.filter(boundary=timer.boundary, fired_at__isnull=False).count()
        if event.repeat is None or fired < event.repeat:
            timer_schedule(
                change,
                token_id=timer.token_id,
                step_id=timer.step_id,
                due_at=timer.fired_at + timedelta(seconds=event.wait_seconds),
                boundary=timer.boundary,
            )
        route_from(change, source=timer.step_id, targets=(event.next,))


def boundary_due(node: Node, variables: dict[str, Any], *, now: datetime) -> list[datetime]:
    """When each of the step's boundary timers entered `now` is due; ExpressionError when an
    `until` gives no date and time (worked out before the step is entered, so it fails
    cleanly on the way in)."""
    return [wait_due_at(event, variables, now=now) for event in node.boundary]


def boundary_timers_cancel(change: Change, *, token_id: int) -> None:
    """The step finished first (completed, routed by a catch, interrupted): its boundary
    timers still scheduled are cancelled. Locks the timer rows (under the instance lock)."""
    from processes.models import Timer
    from processes.services.timers import timers_cancel
    from processes.statuses import TimerStatus

    scheduled = Timer.objects.filter(token_id=token_id, status=TimerStatus.SCHEDULED)
    timers_cancel(change, scheduled.select_for_update(of=("self",)), by_engine=True)
