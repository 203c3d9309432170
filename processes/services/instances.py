"""Starting instances and the operator's controls: suspend, resume, terminate, retry."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django_fsm import can_proceed

from accounts.permissions import can_control_instances, can_start, require
from processes.errors import Conflict, InvalidInput
from processes.models import (
    INSTANCE_ID_PATTERN,
    DefinitionVersion,
    ProcessInstance,
    Token,
    graph_of_version,
    new_instance_id,
)
from processes.selectors import version_numbered
from processes.services.advance import (
    Change,
    change_of,
    instance_cancel_all,
    instance_catch_up,
    instance_change,
    instance_failed_tokens_rerun,
    instance_suspend_all,
    route_from,
)
from processes.services.compensations import TERMINATE, compensation_start
from processes.services.rollouts import start_version
from processes.statuses import EventType
from processes.variables import start_variables, variables_size_check


def instance_start(
    *,
    definition_key: str,
    variables: dict[str, Any] | None = None,
    business_key: str | None = None,
    instance_id: str | None = None,
    version: int | None = None,
    user: Any = None,
) -> ProcessInstance:
    """Start `definition_key`; see `instance_start_or_get`."""
    instance, _ = instance_start_or_get(
        definition_key=definition_key,
        variables=variables,
        business_key=business_key,
        instance_id=instance_id,
        version=version,
        user=user,
    )
    return instance


def instance_start_or_get(
    *,
    definition_key: str,
    variables: dict[str, Any] | None = None,
    business_key: str | None = None,
    instance_id: str | None = None,
    version: int | None = None,
    user: Any = None,
) -> tuple[ProcessInstance, bool]:
    """Start an instance; with a caller-chosen `instance_id` the call is idempotent.

    It runs version number `version`, or the version starts by key go to: the latest, or
    the pinned one, or a rollout's split by the instance's id (`processes.services.
    rollouts`), so a repeated id lands on the same version. Returns the instance and
    whether this call created it. The new row is inserted in the transaction that walks it
    to its first waiting steps; no existing row is locked. NotAllowed when `user` may not
    start the definition; NotFound for an unknown key or version.
    """
    chosen_id = instance_id
    if instance_id is None:
        instance_id = new_instance_id()
    else:
        _check_instance_id(instance_id)
    if version is None:
        chosen = start_version(definition_key, instance_id=instance_id)
    else:
        chosen = version_numbered(definition_key=definition_key, number=version)
    _require_start(user, chosen)
    if chosen_id is not None:
        existing = ProcessInstance.objects.filter(pk=instance_id).first()
        if existing is not None:
            return _same_start(existing, chosen), False
    try:
        instance = _start(chosen, variables, business_key, user, instance_id=instance_id)
    except IntegrityError:
        if chosen_id is None:
            raise
        # Two callers raced with the same id: the other one's instance is the answer.
        return _same_start(ProcessInstance.objects.get(pk=instance_id), chosen), False
    return instance, True


def instance_start_version(
    *,
    version: DefinitionVersion,
    variables: dict[str, Any] | None = None,
    business_key: str | None = None,
    user: Any = None,
    trigger: str = "",
    instance_id: str | None = None,
) -> ProcessInstance:
    """Start `version` itself, not the latest; a start trigger's start, which `trigger`
    names in the history ("cron 0 9 * * MON-FRI"). Locks nothing that exists; NotAllowed
    when `user` may not start the definition, InvalidInput for variables it refuses."""
    _require_start(user, version)
    return _start(version, variables, business_key, user, trigger=trigger, instance_id=instance_id)


def instance_start_child(
    *,
    version: DefinitionVersion,
    variables: dict[str, Any],
    parent: ProcessInstance,
    parent_token: Token,
    scope: str = "",
    actor: Any = None,
) -> ProcessInstance:
    """Start `version` as the child that `parent_token` of `parent` (locked by the caller)
    waits for, in the caller's transaction; with `scope`, the steps of that map step of it
    (`Graph.scope`). No start right is needed: the parent's definition calls it.
    InvalidInput for variables the child's definition refuses."""
    return _start(
        version,
        variables,
        parent.business_key,
        actor,
        parent=parent,
        parent_token=parent_token,
        scope=scope,
    )


def _require_start(user: Any, version: DefinitionVersion) -> None:
    definition = version.definition
    require(
        user,
        lambda person: can_start(person, definition),
        f"you may not start “{definition.name}”: ask a manager to grant you the right",
    )


def _start(
    version: DefinitionVersion,
    variables: dict[str, Any] | None,
    business_key: str | None,
    user: Any,
    *,
    instance_id: str | None = None,
    trigger: str = "",
    parent: ProcessInstance | None = None,
    parent_token: Token | None = None,
    scope: str = "",
) -> ProcessInstance:
    """Insert the instance and walk it to its first waiting steps, in one transaction;
    a child, with its `parent` and the `parent_token` that waits for it."""
    graph = graph_of_version(version.pk, scope)
    values = start_variables(
        declared=graph.variables, values=variables, strict=graph.strict_variables
    )
    variables_size_check(values)
    business_key = business_key or ""
    if len(business_key) > 200:
        raise InvalidInput("business_key is longer than 200 characters")
    instance = ProcessInstance(
        definition_id=version.definition_id,
        definition_version=version,
        variables=values,
        business_key=business_key,
        started_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if parent is not None:
        # The child is part of its parent's case: whoever started the parent sees it too.
        instance.started_by_id = parent.started_by_id
        instance.parent = parent
        instance.parent_step = parent_token.node_id
        instance.parent_token = parent_token
        instance.depth = parent.depth + 1
        instance.scope = scope
    if instance_id is not None:
        instance.id = instance_id
    with transaction.atomic():
        instance.save(force_insert=True)
        instance.start()
        with change_of(instance, actor=user) as change:
            change.log.add(
                EventType.WORKFLOW_STARTED,
                definition=version.definition.key,
                version=version.number,
                business_key=business_key,
                variables=values,
                **({"trigger": trigger} if trigger else {}),
                **({"parent_id": parent.pk} if parent is not None else {}),
            )
            route_from(change, source="", targets=(graph.start,))
    return instance


def instance_suspend(*, instance: ProcessInstance, user: Any = None) -> ProcessInstance:
    """Locks the instance row, then its running children's (parent then child). No job
    starts and no task completes until it is resumed."""
    return _control(instance, user, "suspend", EventType.WORKFLOW_SUSPENDED, instance_suspend_all)


def instance_resume(*, instance: ProcessInstance, user: Any = None) -> ProcessInstance:
    """Locks the instance row, then its suspended children's; applies outcomes that
    arrived meanwhile, resends due jobs."""
    return _control(instance, user, "resume", EventType.WORKFLOW_RESUMED, instance_catch_up)


def instance_retry(*, instance: ProcessInstance, user: Any = None) -> ProcessInstance:
    """Locks the instance row; runs each failed step once more (its next attempt)."""

    def rerun_failed(change: Change) -> None:
        instance_failed_tokens_rerun(change)
        instance_catch_up(change, rerun_failed=True)

    return _control(instance, user, "retry", EventType.WORKFLOW_RETRIED, rerun_failed)


def instance_terminate(
    *, instance: ProcessInstance, user: Any = None, compensate: bool = False
) -> ProcessInstance:
    """Locks the instance row, then its children's; cancels its open tasks, its jobs, its
    children and its tokens.

    With `compensate`, the instance then runs the compensations of its completed steps
    (`processes.services.compensations`) and is cancelled once they are done: meanwhile it
    is `running` (a terminate without compensation still ends it at once; a compensation
    that fails for good fails it, and a retry goes on compensating).
    """
    if not compensate:
        return _control(
            instance, user, "terminate", EventType.WORKFLOW_CANCELLED, instance_cancel_all
        )
    require(user, can_control_instances, "only managers and admins may terminate a process")
    with instance_change(instance.pk, actor=user) as change:
        locked = change.instance
        if not can_proceed(locked.unwind):
            raise Conflict(f"cannot terminate an instance that is {locked.status}")
        instance_cancel_all(change)
        locked.unwind()
        compensation_start(change, by=TERMINATE)
    return locked


def _control(
    instance: ProcessInstance,
    user: Any,
    transition: str,
    event: EventType,
    then: Callable[[Change], None] | None = None,
) -> ProcessInstance:
    require(user, can_control_instances, f"only managers and admins may {transition} a process")
    with instance_change(instance.pk, actor=user) as change:
        locked = change.instance
        method = getattr(locked, transition)
        if not can_proceed(method):
            raise Conflict(f"cannot {transition} an instance that is {locked.status}")
        method()
        change.log.add(event)
        if then is not None:
            then(change)
    return locked


def _check_instance_id(instance_id: Any) -> None:
    if not isinstance(instance_id, str) or not re.fullmatch(INSTANCE_ID_PATTERN, instance_id):
        raise InvalidInput(
            "an instance id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'",
            field_errors={"id": ["must match [A-Za-z0-9._-]{1,64}"]},
        )


def _same_start(existing: ProcessInstance, version: DefinitionVersion) -> ProcessInstance:
    if existing.definition_id != version.definition_id:
        raise Conflict(
            f"instance id {existing.pk!r} is already used by an instance of another definition"
        )
    return existing
