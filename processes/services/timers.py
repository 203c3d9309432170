"""Firing timers: the sweeper fires the due ones, a resume the ones that fell due meanwhile.

Lock order: the instance row first, then the timer row, as every change of an instance
does. Terminating an instance cancels its timers under the instance lock; a sweeper that
locked a timer first and then waited for its instance would deadlock against it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import can_control_instances, require
from processes.errors import Conflict
from processes.metrics import record_timer_fired
from processes.models import ProcessInstance, Timer, Token
from processes.nodes import node_kind
from processes.rows import row_insert, row_lock, row_save
from processes.selectors import wait_owner_get
from processes.services.advance import Change, change_of, instance_change
from processes.services.history import reason_checked, waits_cancel
from processes.statuses import EventType, InstanceStatus, TimerStatus, TokenStatus

BATCH = 500
FIRE_FIELDS = ("status", "fired_at")  # what `Timer.fire` sets
logger = logging.getLogger(__name__)


def timers_fire_due() -> int:
    """Fire every due timer of a running instance, each in its own unit of work; returns how
    many fired. Two sweeps racing fire each timer once (see `timer_fire`)."""
    due = list(
        Timer.objects.filter(
            status=TimerStatus.SCHEDULED,
            due_at__lte=timezone.now(),
            instance__status=InstanceStatus.RUNNING,
        )
        .order_by("due_at", "id")
        .values_list("id", "instance_id")[:BATCH]
    )
    fired = 0
    for timer_id, instance_id in due:
        try:
            fired += timer_fire(timer_id=timer_id, instance_id=instance_id)
        except Exception:
            logger.exception("could not fire timer %s", timer_id)
    return fired


def timer_fire(*, timer_id: int, instance_id: str) -> bool:
    """Fire timer `timer_id` if it is still scheduled and its instance runs; whether it fired.

    Locks the instance row SKIP LOCKED, then the timer's. An instance that another
    transaction holds (a second sweep firing it, a worker finishing a step) is left to the
    next sweep: sweeps running side by side share the due timers instead of each waiting
    for the other's locks to find the timer fired. A suspended, failed or terminated
    instance leaves it alone.
    """
    with transaction.atomic():
        instance = row_lock(ProcessInstance, instance_id, skip_locked=True)
        if instance is None or instance.status != InstanceStatus.RUNNING:
            return False
        timer = row_lock(Timer, timer_id, skip_locked=True)
        if timer is None or timer.status != TimerStatus.SCHEDULED:
            return False
        with change_of(instance) as change:
            if not _token_waits(timer):
                timers_cancel(change, [timer], by_engine=True)
                return False
            _fire(change, timer)
    return True


def timer_fire_now(
    *, timer_id: Any, reason: Any, user: Any, instance_id: str | None = None
) -> Timer:
    """A person fires a scheduled timer ahead of its due time, for `reason`: it fires as the
    sweeper fires it (its kind moves the path on), and its TIMER_FIRED event is `user`'s,
    with `by` and `reason`. Returns the fired timer.

    NotFound when there is no such timer, it is not of instance `instance_id` (when given)
    or `user` may not see its instance; NotAllowed unless `user` may control instances;
    InvalidInput without a reason; Conflict unless the timer is still scheduled and its
    instance runs (a suspended instance's timers fire on resume).

    Locks the instance row, then the timer's, like the sweeper.
    """
    timer_pk, owner = wait_owner_get(
        model=Timer, wait_id=timer_id, instance_id=instance_id, user=user, what="timer"
    )
    require(user, can_control_instances, "only managers and admins may fire a timer")
    reason = reason_checked(reason)
    with instance_change(owner, actor=user) as change:
        status = change.instance.status
        if status != InstanceStatus.RUNNING:
            then = (
                ": resume it, and its due timers fire" if status == InstanceStatus.SUSPENDED else ""
            )
            raise Conflict(f"cannot fire a timer of an instance that is {status}{then}")
        timer = Timer.objects.select_for_update(of=("self",)).get(pk=timer_pk)
        if timer.status != TimerStatus.SCHEDULED:
            raise Conflict(f"timer {timer_pk} is {timer.status} already")
        if not _token_waits(timer):
            raise Conflict(f"timer {timer_pk} belongs to a step that is over")
        _fire(change, timer, reason=reason)
    return timer


def _token_waits(timer: Timer) -> bool:
    """Whether the token the timer was set for still waits: one whose step is over (a
    timer a path left behind) must not fire."""
    return Token.objects.filter(pk=timer.token_id, status=TokenStatus.ACTIVE).exists()


def instance_timers_fire_due(change: Change) -> None:
    """Fire the instance's due timers inside `change` (a resume), oldest due first; runs
    under the instance lock that `change` holds."""
    due = Timer.objects.filter(
        instance=change.instance,
        status=TimerStatus.SCHEDULED,
        due_at__lte=timezone.now(),
        token__status=TokenStatus.ACTIVE,
    )
    for timer_id in list(due.order_by("due_at", "id").values_list("id", flat=True)):
        if change.instance.status != InstanceStatus.RUNNING:
            break  # an earlier timer's path failed the instance
        # Read again: an earlier one's path may have cancelled it (a deferred choice, an
        # interrupting boundary event).
        timer = due.filter(pk=timer_id).select_for_update(of=("self",)).first()
        if timer is not None:
            _fire(change, timer)


def timer_schedule(
    change: Change,
    *,
    token_id: int,
    step_id: str,
    due_at: datetime,
    boundary: int | None = None,
) -> Timer:
    """A Timer row for the token resting at `step_id` (a timer step, or the step's boundary
    event number `boundary`), with its TIMER_SCHEDULED event."""
    timer = Timer(
        instance=change.instance,
        token_id=token_id,
        step_id=step_id,
        boundary=boundary,
        due_at=due_at,
    )
    row_insert(timer)
    change.log.add_by_engine(EventType.TIMER_SCHEDULED, step_id, **_described(timer))
    return timer


def timer_mark_fired(change: Change, timer: Timer, *, reason: str = "", **details: Any) -> None:
    """The timer's `fire` transition with its TIMER_FIRED event; the kind does the rest.

    With a `reason`, a person (the change's actor) fired it ahead of time
    (`timer_fire_now`): the event is theirs, with `by` and `reason`. Otherwise the engine
    fired it, and how late (fired minus due) goes to the metrics once committed.
    """
    timer.fire()
    row_save(timer, FIRE_FIELDS)
    payload = {**_described(timer), **details}
    if reason:
        by = change.log.actor.get_username() if change.log.actor is not None else None
        change.log.add(EventType.TIMER_FIRED, timer.step_id, **payload, by=by, reason=reason)
        return
    change.log.add_by_engine(EventType.TIMER_FIRED, timer.step_id, **payload)
    lag = (timer.fired_at - timer.due_at).total_seconds()
    transaction.on_commit(lambda: record_timer_fired(lag_seconds=lag))


def timers_cancel(change: Change, timers: Iterable[Timer], *, by_engine: bool) -> None:
    """Cancel `timers` with their TIMER_CANCELLED events: the engine's when a step finished
    first, the change's actor's when a person terminated the instance."""
    waits_cancel(
        change, timers, event=EventType.TIMER_CANCELLED, described=_described, by_engine=by_engine
    )


def _described(timer: Timer) -> dict[str, Any]:
    described = {"timer_id": timer.pk, "due_at": timer.due_at.isoformat()}
    if timer.boundary is not None:
        described["boundary"] = timer.boundary
    return described


def _fire(change: Change, timer: Timer, *, reason: str = "") -> None:
    node_kind(change.graph.node(timer.step_id)).timer_fire(change, timer, reason=reason)
