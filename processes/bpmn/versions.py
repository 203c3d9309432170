"""A published version's BPMN document (the export itself, in `export`, needs no database)."""

from __future__ import annotations

from functools import lru_cache

from processes.bpmn.export import graph_bpmn
from processes.models import DefinitionVersion, graph_of_version


def version_bpmn(*, version: DefinitionVersion, scope: str = "") -> str:
    """The BPMN 2.0 XML of a published version, or with `scope` of the steps a map step of
    it runs per item. Versions never change, so each process keeps the documents it made
    last (a graph of 200 steps takes about 0.2 s to lay out)."""
    return _document(version.pk, version.definition.key, scope)


@lru_cache(maxsize=64)
def _document(version_id: int, definition_key: str, scope: str) -> str:
    key = f"{definition_key}/{scope}" if scope else definition_key
    return graph_bpmn(graph_of_version(version_id, scope), definition_key=key)


def version_bpmn_filename(*, version: DefinitionVersion) -> str:
    return f"{version.definition.key}-v{version.number}.bpmn"
