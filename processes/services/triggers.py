"""Start triggers: publishing a version replaces its definition's triggers, the sweeper starts
an instance for each scheduled trigger that is due, and a message that no waiting instance
takes starts one through the message trigger of its name.

Scheduled triggers are read in the server's time zone (settings.TIME_ZONE). A trigger that
fell due several times while nothing ran (downtime) starts one instance, then waits for its
next slot after now: missed slots are not replayed in a burst.

Lock order: the definition row, then its trigger rows, when publishing and when firing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from processes.dsl import DefinitionError, Problem
from processes.dsl.durations import parse_duration
from processes.dsl.graph import Graph
from processes.engine.schedules import cron_next, every_next
from processes.errors import FlowdeskError
from processes.models import (
    DefinitionVersion,
    ProcessDefinition,
    ProcessInstance,
    Trigger,
    new_instance_id,
)
from processes.rows import row_lock
from processes.services.instances import instance_start_version
from processes.services.rollouts import start_version
from processes.statuses import TriggerKind

BATCH = 500
logger = logging.getLogger(__name__)


def definition_triggers_replace(*, version: DefinitionVersion, graph: Graph) -> None:
    """Deactivate the definition's triggers and create `version`'s (from its `graph`), the
    scheduled ones due at their first slot after now.

    Runs in the publish transaction, which holds the definition row lock; the update locks
    the old trigger rows, so it waits for a sweep that is starting one of them. Raises
    DefinitionError, naming the place, when a message trigger's name is already another
    definition's (the partial unique index on active message names holds this against a
    concurrent publish too).
    """
    definition = version.definition
    Trigger.objects.filter(definition=definition, active=True).update(
        active=False, next_due_at=None
    )
    _refuse_taken_messages(definition.pk, graph)
    now = timezone.now()
    Trigger.objects.bulk_create(
        Trigger(
            definition=definition,
            version=version,
            position=position,
            kind=trigger.kind,
            spec=trigger.spec,
            variables=trigger.variables,
            next_due_at=trigger_next_due(kind=trigger.kind, spec=trigger.spec, due=None, now=now),
        )
        for position, trigger in enumerate(graph.triggers)
    )


def _refuse_taken_messages(definition_id: int, graph: Graph) -> None:
    names = {t.spec for t in graph.triggers if t.kind == TriggerKind.MESSAGE}
    taken = dict(
        Trigger.objects.filter(active=True, kind=TriggerKind.MESSAGE, spec__in=names)
        .exclude(definition_id=definition_id)
        .values_list("spec", "definition__key")
    )
    problems = [
        Problem(
            f"/triggers/{position}/message",
            f"message '{trigger.spec}' already starts definition '{taken[trigger.spec]}':"
            " a message starts one definition",
        )
        for position, trigger in enumerate(graph.triggers)
        if trigger.kind == TriggerKind.MESSAGE and trigger.spec in taken
    ]
    if problems:
        raise DefinitionError(problems)


def trigger_next_due(
    *, kind: str, spec: str, due: datetime | None, now: datetime
) -> datetime | None:
    """When a trigger is next due, strictly after `now`: a cron trigger at the next match
    (in TIME_ZONE), an `every` trigger in the series `due`, `due` + interval, ... (the first
    one at now + interval); a message trigger never (None)."""
    if kind == TriggerKind.CRON:
        return cron_next(spec, after=timezone.localtime(now, timezone.get_default_timezone()))
    if kind == TriggerKind.EVERY:
        interval = parse_duration(spec)
        first = now + timedelta(seconds=interval)
        return every_next(interval, slot=due or first, after=now)
    return None


def triggers_fire_due() -> int:
    """Start an instance for every due scheduled trigger, each in its own transaction;
    returns how many started. Two sweeps racing start one instance per slot (see
    `trigger_fire`)."""
    due = list(
        Trigger.objects.filter(active=True, next_due_at__lte=timezone.now())
        .order_by("next_due_at", "id")
        .values_list("id", "definition_id")[:BATCH]
    )
    started = 0
    for trigger_id, definition_id in due:
        try:
            started += trigger_fire(trigger_id=trigger_id, definition_id=definition_id)
        except Exception:
            logger.exception("could not fire trigger %s", trigger_id)
    return started


def trigger_fire(*, trigger_id: int, definition_id: int) -> bool:
    """If trigger `trigger_id` (of definition `definition_id`) is still active and due: start
    an instance of its version and move it to its next slot after now, in one transaction;
    whether an instance started.

    Locks the definition row (FOR NO KEY UPDATE), then the trigger row (FOR UPDATE SKIP
    LOCKED), until the end. A publish locks them in the same order, so it waits for a start
    or the start waits for it (and finds the trigger replaced); taken the other way round,
    the new instance's reference to the definition would wait for the publish while the
    publish waits for the trigger. A second sweep skips the trigger or finds it moved on, so
    a slot starts one instance. A start that fails (variables the version refuses, say) is
    logged and kept in `last_error`; the trigger moves on all the same, so one bad start
    does not block it.
    """
    now = timezone.now()
    with transaction.atomic():
        row_lock(ProcessDefinition, definition_id)
        trigger = (
            Trigger.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version__definition")
            .filter(pk=trigger_id, active=True, next_due_at__lte=now)
            .first()
        )
        if trigger is None:
            return False
        started = _start_scheduled(trigger, now)
        trigger.next_due_at = trigger_next_due(
            kind=trigger.kind, spec=trigger.spec, due=trigger.next_due_at, now=now
        )
        trigger.save(update_fields=("next_due_at", "started", "last_fired_at", "last_error"))
    return started


def _start_scheduled(trigger: Trigger, now: datetime) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a failed start leaves the trigger to update
            version, instance_id = _rolled_out(trigger)
            instance_start_version(
                version=version,
                variables=trigger.variables,
                trigger=str(trigger),
                instance_id=instance_id,
            )
    except FlowdeskError as error:
        trigger.last_error = _described(error)
        logger.warning(
            "trigger %s (%s) could not start: %s", trigger.pk, trigger, trigger.last_error
        )
        return False
    except Exception as error:
        trigger.last_error = f"{type(error).__name__}: {error}"
        logger.exception("trigger %s (%s) could not start", trigger.pk, trigger)
        return False
    trigger.started += 1
    trigger.last_fired_at = now
    trigger.last_error = ""
    return True


def _rolled_out(trigger: Trigger) -> tuple[DefinitionVersion, str]:
    """The version a triggered start runs, as for any start by key: a rollout's split by the
    new instance's id, or the pinned version after a rollback (the latest version's
    triggers are the active ones); and that id."""
    instance_id = new_instance_id()
    return start_version(trigger.version.definition.key, instance_id=instance_id), instance_id


def _described(error: FlowdeskError) -> str:
    fields = "; ".join(
        f"{name}: {', '.join(reasons)}" for name, reasons in error.field_errors.items()
    )
    return f"{error.message} ({fields})" if fields else error.message


def trigger_start_by_message(
    *,
    name: str,
    variables: dict | None,
    business_key: str | None,
    user: Any,
) -> ProcessInstance | None:
    """Start an instance through the active message trigger named `name` (the latest version
    of the one definition that has it), with the trigger's variables under the message's;
    None when no definition has such a trigger.

    `user` needs the right to start that definition (NotAllowed); variables the version
    refuses are InvalidInput. Locks no existing row until the start is made; then counts it
    on the trigger row, whose lock a concurrent start by the same message waits for until
    this transaction ends.
    """
    trigger = (
        Trigger.objects.select_related("version__definition")
        .filter(active=True, kind=TriggerKind.MESSAGE, spec=name)
        .first()
    )
    if trigger is None:
        return None
    values: Any = {} if variables is None else variables
    if isinstance(values, dict):
        values = {**trigger.variables, **values}
    with transaction.atomic():
        version, instance_id = _rolled_out(trigger)
        instance = instance_start_version(
            version=version,
            variables=values,
            business_key=business_key,
            user=user,
            trigger=str(trigger),
            instance_id=instance_id,
        )
        Trigger.objects.filter(pk=trigger.pk).update(
            started=F("started") + 1, last_fired_at=timezone.now()
        )
    return instance
