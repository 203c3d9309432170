"""Publishing definitions as immutable, numbered versions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from accounts.permissions import can_publish, require
from processes.dsl import compile_definition
from processes.dsl.version_document import is_version_document, read_version_document
from processes.errors import InvalidInput
from processes.models import DefinitionVersion, ProcessDefinition
from processes.registry import service_exists
from processes.services.rollouts import version_document_apply
from processes.services.start_rights import definition_starters_grant
from processes.services.triggers import definition_triggers_replace
from processes.statuses import DefinitionFormat


def definition_publish(
    *,
    source: str,
    format: str,
    user: Any = None,
    starter_groups: Iterable[str] = (),
) -> DefinitionVersion:
    """Compile `source` and store it as the next version of its key; the `starter_groups`
    (names) may start it from then on, in the same transaction. A YAML `kind:
    WorkflowVersion` document rolls out a version published already instead and returns
    it (`processes.services.rollouts.version_document_apply`).

    Raises `processes.dsl.DefinitionError` with every problem found. Publishing a source
    identical to the latest version returns that version. Locks the definition row, so
    concurrent publishes of one key get consecutive numbers; a new version's start triggers
    replace the previous version's (`definition_triggers_replace`).
    """
    require(user, can_publish, "publishing definitions needs the manager or admin role")
    if format not in DefinitionFormat.values:
        raise InvalidInput(f"unknown definition format {format!r}; use json or yaml")
    if not isinstance(source, str):
        raise InvalidInput("the definition source must be text")
    if format == DefinitionFormat.YAML and is_version_document(source):
        # Seed 000's WorkflowVersion: it names versions published already.
        return version_document_apply(document=read_version_document(source), user=user)
    graph = compile_definition(source, format, service_exists=service_exists)
    checksum = hashlib.sha256(source.encode()).hexdigest()
    for _ in range(2):  # a concurrent first publish of the same key wins the insert
        try:
            with transaction.atomic():
                version = _publish_locked(graph, source, format, checksum, user)
                if starter_groups:
                    definition_starters_grant(
                        definition=version.definition, groups=starter_groups, user=user
                    )
                return version
        except IntegrityError:
            continue
    raise InvalidInput(f"definition {graph.key!r} is being published concurrently; try again")


def _publish_locked(graph, source: str, format: str, checksum: str, user: Any):
    definition, _ = ProcessDefinition.objects.select_for_update().get_or_create(
        key=graph.key, defaults={"name": graph.name, "description": graph.description}
    )
    latest = definition.versions.order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return latest
    version = DefinitionVersion(
        definition=definition,
        number=latest.number + 1 if latest else 1,
        format=format,
        source=source,
        graph=graph.to_dict(),
        checksum=checksum,
        published_by=user if getattr(user, "is_authenticated", False) else None,
    )
    version.save(force_insert=True)
    definition_triggers_replace(version=version, graph=graph)
    definition.name, definition.description = graph.name, graph.description
    definition.save(update_fields=("name", "description", "updated_at"))
    return version
