"""Which version a start by key runs: the latest, a pinned one, or a rollout's split.

A definition starts its latest version until someone rolls a version out: from then on a
start by key goes to the rolled-out version for `percent`% of new instances and to the
previous default version for the rest. The choice is a stable hash of the new instance's id,
so an idempotent retry of a start (same id) lands on the same version. Promoting
(`percent=100`) sends every new start to the version; rolling back sends every new start to
the previous one, which stays pinned (a version published later takes no starts until it is
rolled out or promoted). A start that names its version gets that version.

Every write here locks the definition's row (`SELECT ... FOR UPDATE`), as publishing does.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import can_publish, require
from processes.dsl.version_document import VersionDocument, version_problem
from processes.errors import InvalidInput, NotFound
from processes.models import DefinitionVersion, ProcessDefinition, Rollout
from processes.selectors import version_numbered

GRADUAL, IMMEDIATE = "gradual", "immediate"


def definition_rollout(
    *,
    definition_key: str,
    version: int,
    percent: int,
    user: Any = None,
    previous: int | None = None,
    strategy: str = GRADUAL,
    changes: list[Any] | None = None,
) -> Rollout:
    """Send `percent`% of new starts by key to version number `version`, the rest to the
    previous default version (or to version number `previous`, as a WorkflowVersion
    document names it). `percent=100` promotes. Replaces a rollout under way. Locks the
    definition's row. NotAllowed for a user who may not publish; NotFound for an unknown
    key or version; InvalidInput for a percent outside 0..100 or no version to come from."""
    require(user, can_publish, "rolling out a version needs the manager or admin role")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise InvalidInput(
            "percent must be a whole number from 0 to 100",
            field_errors={"percent": ["a whole number from 0 to 100"]},
        )
    with transaction.atomic():
        definition = _locked(definition_key)
        target = version_numbered(definition=definition, number=version)
        if previous is not None:
            stable = version_numbered(definition=definition, number=previous, field="previous")
        else:
            stable = _current_default(definition)
            if stable.pk == target.pk:
                stable = _earlier(definition, target)
        if stable.pk == target.pk:
            raise InvalidInput(f"version {version} cannot be rolled out from itself")
        _end_running(definition, Rollout.Status.REPLACED)
        rollout = Rollout.objects.create(
            definition=definition,
            version=target,
            previous=stable,
            percent=percent,
            strategy=strategy,
            changes=changes or [],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if percent == 100:
            _promote(definition, rollout)
        else:
            definition.default_version, definition.rollout = stable, rollout
            definition.save(update_fields=("default_version", "rollout", "updated_at"))
    return rollout


def definition_rollback(*, definition_key: str, user: Any = None) -> ProcessDefinition:
    """Every new start by key goes to the version the rollout under way came from (it stays
    pinned). Locks the definition's row. NotFound for an unknown key; InvalidInput when no
    rollout is under way."""
    require(user, can_publish, "rolling back a version needs the manager or admin role")
    with transaction.atomic():
        definition = _locked(definition_key)
        rollout = definition.rollout
        if rollout is None or rollout.status != Rollout.Status.RUNNING:
            raise InvalidInput(f"no rollout of {definition_key!r} is under way to roll back")
        _end_running(definition, Rollout.Status.ROLLED_BACK)
        definition.default_version, definition.rollout = rollout.previous, None
        definition.save(update_fields=("default_version", "rollout", "updated_at"))
    return definition


def start_version(definition_key: str, *, instance_id: str) -> DefinitionVersion:
    """The version a start by key of instance `instance_id` runs (one query): the running
    rollout's split, else the pinned default, else the latest. NotFound for an unknown key."""
    latest = (
        DefinitionVersion.objects.filter(definition__key=definition_key)
        .select_related(
            "definition__default_version__definition",
            "definition__rollout__version__definition",
            "definition__rollout__previous__definition",
        )
        .order_by("-number")
        .first()
    )
    if latest is None:
        raise NotFound(f"no process definition with key {definition_key!r}")
    definition = latest.definition
    rollout = definition.rollout
    if rollout is not None:
        canary = rollout_bucket(instance_id) < rollout.percent
        return rollout.version if canary else rollout.previous
    return definition.default_version or latest


def version_document_apply(*, document: VersionDocument, user: Any = None) -> DefinitionVersion:
    """Apply a WorkflowVersion document (`processes.dsl.version_document`): roll its version
    out at its percentage (`immediate`: promote), keeping its change list with the rollout.
    Returns the version it names. DefinitionError when a version or the key it names is not
    published; the rest as `definition_rollout`."""
    require(user, can_publish, "publishing definitions needs the manager or admin role")
    definition = ProcessDefinition.objects.filter(key=document.workflow_id).first()
    if definition is None:
        raise version_problem(
            "/spec/workflowID", f"no process definition with key {document.workflow_id!r}"
        )
    target = _named_version(definition, document.version, "/spec/version")
    previous = (
        _named_version(definition, document.previous, "/spec/previousVersion")
        if document.previous
        else None
    )
    definition_rollout(
        definition_key=definition.key,
        version=target.number,
        percent=document.percent,
        previous=previous.number if previous is not None else None,
        strategy=document.strategy,
        changes=document.changes,
        user=user,
    )
    return target


def _named_version(definition: ProcessDefinition, name: str, path: str) -> DefinitionVersion:
    """The latest version whose document gives `name` as its `version`, else the one
    numbered `name`."""
    versions = definition.versions.select_related("definition").order_by("-number")
    found = versions.filter(graph__version_label=name).first()
    if found is None and re.fullmatch(r"[0-9]{1,9}", name):
        found = versions.filter(number=int(name)).first()
    if found is None:
        raise version_problem(
            path,
            f"{definition.key!r} has no published version {name!r} (by the version its"
            " document gives, or by number): publish it first",
        )
    return found


def rollout_bucket(instance_id: str) -> int:
    """0..99, the same for an instance id everywhere and always."""
    digest = hashlib.sha256(instance_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100


def _promote(definition: ProcessDefinition, rollout: Rollout) -> None:
    rollout.status, rollout.ended_at = Rollout.Status.PROMOTED, timezone.now()
    rollout.save(update_fields=("status", "ended_at"))
    latest = definition.versions.order_by("-number").values_list("pk", flat=True).first()
    # Promoting the latest unpins: the next version published takes the starts again.
    definition.default_version = None if rollout.version_id == latest else rollout.version
    definition.rollout = None
    definition.save(update_fields=("default_version", "rollout", "updated_at"))


def _end_running(definition: ProcessDefinition, status: str) -> None:
    Rollout.objects.filter(definition=definition, status=Rollout.Status.RUNNING).update(
        status=status, ended_at=timezone.now()
    )


def _locked(definition_key: str) -> ProcessDefinition:
    definition = (
        ProcessDefinition.objects.select_for_update(of=("self",))
        .select_related("rollout", "rollout__previous", "default_version")
        .filter(key=definition_key)
        .first()
    )
    if definition is None:
        raise NotFound(f"no process definition with key {definition_key!r}")
    return definition


def _current_default(definition: ProcessDefinition) -> DefinitionVersion:
    if definition.rollout is not None:
        return definition.rollout.previous
    return definition.default_version or definition.versions.order_by("-number").first()


def _earlier(definition: ProcessDefinition, version: DefinitionVersion) -> DefinitionVersion:
    earlier = definition.versions.filter(number__lt=version.number).order_by("-number").first()
    if earlier is None:
        raise InvalidInput(
            f"version {version.number} is the first of {definition.key!r}: there is no"
            " earlier version for the other starts to go to"
        )
    return earlier
