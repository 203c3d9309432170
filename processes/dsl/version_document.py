"""Seed 000's version document: ``kind: WorkflowVersion``, published beside the definitions.

    apiVersion: api.example.com/v1
    kind: WorkflowVersion
    metadata: {name: order-processing-workflow-v2}
    spec:
      workflowID: "order-processing-workflow"   # the definition's key
      version: "2.0"                            # a published version: its label, or number
      previousVersion: "1.0"                    # where the other starts go (optional)
      changes: [{type: added, description: "Added payment retry logic"}]
      migration: {strategy: gradual, rolloutPercentage: 10}   # or strategy: immediate

It names versions published already (by the `version` their document gives, or by number)
and says how new starts move to the new one (`processes.services.rollouts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from processes.dsl.fields import Section
from processes.dsl.problems import DefinitionError, Problem, Problems
from processes.dsl.yaml_format import load_yaml

KIND = "WorkflowVersion"
STRATEGIES = ("gradual", "immediate")
CHANGE_TYPES = ("added", "modified", "removed", "fixed", "deprecated")


@dataclass(frozen=True)
class VersionDocument:
    workflow_id: str
    version: str  # as written: the label a published document gives, or a number
    previous: str = ""
    strategy: str = "gradual"
    percent: int = 100
    changes: list[dict[str, str]] = field(default_factory=list)


def is_version_document(source: str) -> bool:
    """Whether `source` is YAML whose `kind` is WorkflowVersion (read no further)."""
    try:
        _, data = load_yaml(source)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        return False
    return isinstance(data, Mapping) and data.get("kind") == KIND


def read_version_document(source: str) -> VersionDocument:
    """The document's parts; DefinitionError with every problem, each at its pointer."""
    _, data = load_yaml(source)
    problems = Problems()
    document = Section(data, "", problems)
    document.text("apiVersion")
    spec = document.section("spec")
    workflow_id = spec.text("workflowID", required=True)
    version = spec.label("version")
    if not version:
        spec.missing("version")
    previous = spec.label("previousVersion")
    changes = []
    for change in spec.sections("changes"):
        kind = change.text("type", required=True)
        if kind and kind not in CHANGE_TYPES:
            change.problem("type", f"'type' must be one of: {', '.join(CHANGE_TYPES)}")
        changes.append({"type": kind, "description": change.text("description")})
    migration = spec.section("migration")
    strategy = migration.text("strategy", default="gradual")
    percent = 100
    if strategy not in STRATEGIES:
        migration.problem("strategy", f"'strategy' must be one of: {', '.join(STRATEGIES)}")
    elif strategy == "gradual":
        if not migration.has("rolloutPercentage"):
            migration.missing("rolloutPercentage")
        percent = migration.integer("rolloutPercentage", default=0, minimum=0)
        if percent > 100:
            migration.problem("rolloutPercentage", "'rolloutPercentage' must be at most 100")
    elif migration.has("rolloutPercentage") and migration.data["rolloutPercentage"] != 100:
        migration.problem("rolloutPercentage", "an immediate migration moves every new start")
    if problems.found:
        raise DefinitionError(problems.found)
    return VersionDocument(
        workflow_id=workflow_id,
        version=version,
        previous=previous,
        strategy=strategy,
        percent=percent,
        changes=changes,
    )


def version_problem(path: str, message: str) -> DefinitionError:
    """A document that reads well but names what is not there (a version, a key)."""
    return DefinitionError([Problem(path, message)])
