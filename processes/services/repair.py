"""Repairing a stuck instance: an operator corrects its variables, then retries it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from accounts.permissions import can_control_instances, require
from processes.errors import Conflict, InvalidInput
from processes.models import ProcessInstance
from processes.services.advance import instance_change
from processes.statuses import EventType, InstanceStatus
from processes.variables import variables_check, variables_size_check

REPAIRABLE = (InstanceStatus.FAILED, InstanceStatus.SUSPENDED)


def variables_checksum(variables: dict[str, Any]) -> str:
    """A fingerprint of an instance's variables, to tell whether they changed since read."""
    text = json.dumps(variables, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def instance_variables_update(
    *,
    instance: ProcessInstance,
    changes: dict[str, Any],
    user: Any = None,
    expected_checksum: str | None = None,
) -> ProcessInstance:
    """Set (or, with None, remove) variables of a failed or suspended instance.

    Values are checked against the definition's declarations (types; a required variable
    cannot be removed; with `strict_variables`, only declared names). With
    `expected_checksum` (`variables_checksum` of the variables the caller read), a change
    made by someone else meanwhile is a Conflict rather than silently undone. The history
    gets one VARIABLES_UPDATED event with each change's before and after, and who made it.
    Locks the instance row. Managers and admins only.
    """
    require(user, can_control_instances, "only managers and admins may edit a process's variables")
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("give the variables to change as a non-empty object")
    with instance_change(instance.pk, actor=user) as change:
        locked = change.instance
        if locked.status not in REPAIRABLE:
            raise Conflict(
                f"the variables of a {locked.status} instance cannot be edited: "
                "suspend it first (a failed one can be edited as it is)"
            )
        if expected_checksum is not None and expected_checksum != variables_checksum(
            locked.variables
        ):
            raise Conflict("someone changed the variables since you read them: reload and retry")
        graph = locked.graph
        setting = {name: value for name, value in changes.items() if value is not None}
        variables_check(declared=graph.variables, values=setting, strict=graph.strict_variables)
        removing = [name for name, value in changes.items() if value is None]
        _refuse_removing_required(graph.variables, removing)
        before = locked.variables
        after = {k: v for k, v in {**before, **setting}.items() if k not in removing}
        variables_size_check(after)
        diff = {
            name: {"before": before.get(name), "after": after.get(name)}
            for name in changes
            if before.get(name) != after.get(name) or (name in before) != (name in after)
        }
        if not diff:
            return locked
        locked.variables = after
        change.log.add(EventType.VARIABLES_UPDATED, changes=diff)
    return locked


def _refuse_removing_required(declared: dict, removing: list[str]) -> None:
    required = {
        name: ["is required; it cannot be removed"]
        for name in removing
        if name in declared and declared[name].required
    }
    if required:
        raise InvalidInput(
            "required variables cannot be removed: " + ", ".join(sorted(required)),
            field_errors=required,
        )
