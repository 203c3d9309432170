"""Appending to an instance's history.

A service collects the events of one change in an `EventLog` and saves them with one
INSERT in the same transaction as the change; ids keep their order. When the events have
consumers outside (the bus, webhooks), the same transaction writes them to the outbox too
(`processes.services.outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from processes.errors import InvalidInput
from processes.models import Event, ProcessInstance
from processes.rows import rows_insert
from processes.services.outbox import outbox_consumers, outbox_write
from processes.statuses import EventType
from processes.storable import text_problem

REASON_MAX_CHARS = 1000

if TYPE_CHECKING:
    from processes.services.advance import Change


class EventLog:
    def __init__(self, instance: ProcessInstance, actor: Any = None):
        self.instance = instance
        self.actor = actor if getattr(actor, "is_authenticated", False) else None
        self._events: list[Event] = []

    def add(self, type: EventType, step_id: str = "", **payload: Any) -> None:
        """An event the change's actor caused directly: they started, claimed, completed..."""
        self._append(type, step_id, self.actor, payload)

    def add_by_engine(self, type: EventType, step_id: str = "", **payload: Any) -> None:
        """An event the engine made on its own (a decision, a step started, a join): no one
        did it, even if someone's action set it off."""
        self._append(type, step_id, None, payload)

    def _append(self, type: EventType, step_id: str, actor: Any, payload: dict) -> None:
        self._events.append(
            Event(instance=self.instance, type=type, step_id=step_id, actor=actor, payload=payload)
        )

    @property
    def pending(self) -> int:
        """How many events wait to be saved."""
        return len(self._events)

    def save(self) -> None:
        if self._events:
            events, self._events = self._events, []
            if outbox_consumers():
                # The outbox rows carry the events' ids: INSERT ... RETURNING them.
                rows_insert(events, returning_pks=True)
                outbox_write(instance=self.instance, events=events)
            else:
                rows_insert(events)
            transaction.on_commit(lambda: _log(events))


logger = logging.getLogger("flowdesk.events")


def _log(events: list[Event]) -> None:
    """One log line per event, with the ids a log search needs, once it is committed."""
    for event in events:
        logger.info(
            "%s %s%s",
            event.type,
            event.instance_id,
            f" {event.step_id}" if event.step_id else "",
            extra={
                "event": event.type,
                "instance_id": event.instance_id,
                "step_id": event.step_id,
                "job_id": event.payload.get("job_id"),
            },
        )


def reason_checked(reason: Any) -> str:
    """An operator's reason for acting by hand (firing a timer, stopping a wait), stripped,
    for the history; InvalidInput naming `reason` when there is none to record."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        problem = "give the reason, for the history"
    elif len(text) > REASON_MAX_CHARS:
        problem = f"at most {REASON_MAX_CHARS:,} characters"
    else:
        problem = text_problem(text)
    if problem:
        raise InvalidInput(f"reason: {problem}", field_errors={"reason": [problem]})
    return text


def waits_cancel(
    change: Change,
    waits: Iterable[Any],
    *,
    event: EventType,
    described: Callable[[Any], dict[str, Any]],
    by_engine: bool,
    **details: Any,
) -> None:
    """Cancel `waits` (timers, subscriptions: rows with a `cancel` transition), each with its
    `event`: the engine's when a step finished first, the change's actor's when a person
    terminated the instance or stopped the wait (`details`: their reason)."""
    log = change.log.add_by_engine if by_engine else change.log.add
    for wait in waits:
        wait.cancel()
        wait.save()
        log(event, wait.step_id, **described(wait), **details)
