"""A timer step: waits a while, or until a date and time, then continues; held by a Timer.

JSON ``{"type": "timer", "config": {"duration": "2h"}}`` or ``{"until": "${deadline}"}``;
YAML ``type: wait`` with `seconds` or `timestamp`. A duration is written as anywhere else
(`30s`, `2h`, `PT2H`); `until` is an ISO 8601 date and time or a `${...}` template giving
one, evaluated when a token arrives. A time in the past fires at the next sweep.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.fields import check_template
from processes.dsl.graph import BoundaryEvent, Node
from processes.engine.expressions import ExpressionError, render
from processes.engine.kinds import kind_of
from processes.engine.plan import Activate
from processes.nodes.base import Names, NodeKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.models import Timer, Token
    from processes.services.advance import Change

MAX_WAIT_SECONDS = 100 * 365.25 * 86400  # beyond it a due time overflows the calendar soon


class TimerKind(NodeKind):
    type = "timer"
    json_type = "timer"
    yaml_type = "wait"
    fields = ("next", "wait_seconds", "wait_until")
    bpmn = BpmnElement(
        "intermediateCatchEvent", *EVENT_SIZE, event_definition="timerEventDefinition"
    )

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            **read_wait(config, seconds_key="duration", until_key="until"),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {
            **read_wait(state, seconds_key="seconds", until_key="timestamp"),
            "next": place.successor(state),
        }

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def bpmn_expressions(self, node: Node) -> dict[str, str]:
        return wait_expressions(node)

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """Work out when the timer is due, then place the token and its Timer row. An `until`
        that gives no date and time fails the instance here, like a bad template."""
        from django.utils import timezone

        from processes.services.advance import fail_on_expression, token_place
        from processes.statuses import TokenHolder

        try:
            due_at = self.event_prepare(node, change.instance.variables, now=timezone.now())
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc)
            return
        token = token_place(change, node, arrived_from, holder=TokenHolder.TIMER)
        self.event_arm(change, node, token_id=token.pk, prepared=due_at)

    # An event step: what an event gateway arms (see processes.nodes.event_gateway).

    def event_prepare(self, node: Node, variables: dict[str, Any], *, now: datetime) -> datetime:
        return wait_due_at(node, variables, now=now)

    def event_arm(self, change: Change, node: Node, *, token_id: int, prepared: datetime) -> None:
        from processes.services.timers import timer_schedule

        timer_schedule(change, token_id=token_id, step_id=node.id, due_at=prepared)

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """The wait is over: the token moves on to `next` (or, armed by an event gateway,
        this step wins the choice)."""
        from processes.nodes.event_gateway import catch_step_happened
        from processes.services.timers import timer_mark_fired

        timer_mark_fired(change, timer, reason=reason)
        catch_step_happened(change, token_id=timer.token_id, node_id=timer.step_id)

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """Cancel the instance's scheduled timers (a terminate)."""
        from processes.models import Timer
        from processes.services.timers import timers_cancel
        from processes.statuses import TimerStatus

        scheduled = Timer.objects.filter(instance=change.instance, status=TimerStatus.SCHEDULED)
        timers_cancel(change, scheduled, by_engine=by_engine)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Fire the timers that fell due while the instance did not run (the sweeper skips
        them meanwhile), so an overdue wait ends with the resume itself."""
        from processes.services.timers import instance_timers_fire_due

        instance_timers_fire_due(change)

    def retry(self, change: Change, token: Token) -> None:
        """A timer fails only on the way in (its `until`): walk in again."""
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)


def read_wait(section: Section, *, seconds_key: str, until_key: str) -> dict[str, Any]:
    """The wait of a timer: exactly one of a duration and a date and time (or a template)."""
    has_seconds, has_until = section.has(seconds_key), section.has(until_key)
    if has_seconds and has_until:
        section.problem(until_key, f"give either '{seconds_key}' or '{until_key}', not both")
    elif not (has_seconds or has_until):
        section.problems.add(
            section.path,
            f"a timer needs '{seconds_key}' (how long to wait) or '{until_key}' (until when)",
            step=section.step,
        )
    seconds = section.duration(seconds_key, positive=False)
    if seconds is not None and seconds > MAX_WAIT_SECONDS:
        section.problem(seconds_key, f"'{seconds_key}' must be at most 100 years")
        seconds = None
    until = section.text(until_key, required=has_until)
    if until and "${" in until:
        check_template(until, section.at(until_key), section.problems, step=section.step)
    elif until:
        try:
            instant_parse(until)
        except ValueError as error:
            section.problem(until_key, f"'{until_key}': {error}")
            until = ""
    return {"wait_seconds": seconds, "wait_until": until}


def wait_expressions(wait: Node | BoundaryEvent, *, repeat: int | None = 1) -> dict[str, str]:
    """The BPMN timer expression of a wait: `timeDuration`, `timeDate`, or for a wait that
    repeats `timeCycle` (R<n>/<duration>; R/ repeats without end)."""
    seconds = wait.wait_seconds
    if seconds is None:
        return {"timeDate": wait.wait_until}
    duration = f"PT{int(seconds) if float(seconds).is_integer() else seconds}S"
    if repeat == 1:
        return {"timeDuration": duration}
    return {"timeCycle": f"R{repeat or ''}/{duration}"}


def instant_parse(text: str) -> datetime:
    """An ISO 8601 date and time (`2026-12-01T09:00:00Z`); without an offset it is taken in
    the server's time zone. ValueError when `text` is none."""
    from django.utils import timezone

    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r:.60} is not an ISO 8601 date and time (write e.g. 2026-12-01T09:00:00Z)"
        ) from None
    return instant if timezone.is_aware(instant) else timezone.make_aware(instant)


def wait_due_at(
    node: Node | BoundaryEvent, variables: dict[str, Any], *, now: datetime
) -> datetime:
    """When a token arriving `now` at timer `node` is due; ExpressionError when its `until`
    does not give an ISO 8601 date and time."""
    if node.wait_seconds is not None:
        return now + timedelta(seconds=node.wait_seconds)
    value = render(node.wait_until, variables)
    if not isinstance(value, str):
        raise ExpressionError(node.wait_until, f"gives {kind_of(value)}, not a date and time")
    try:
        return instant_parse(value)
    except ValueError as error:
        raise ExpressionError(node.wait_until, str(error)) from None


KIND = TimerKind()
