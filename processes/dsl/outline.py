"""What a format reader hands to validation: the graph's parts, each with where it was written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from processes.dsl.graph import Node, StartTrigger, VariableSpec


@dataclass(frozen=True)
class Ref:
    """A step named as a target at `path`; it must live in parallel-branch `scope`."""

    target: str
    path: str
    scope: str = ""


class Links:
    """Records the targets one step names, as Refs, and returns them resolved.

    `aliases` maps a name to (target, scope) it stands for: inside a YAML parallel branch a
    `succeed` state is another name for the branch's join.
    """

    def __init__(self, scope: str = "", aliases: Mapping[str, tuple[str, str]] | None = None):
        self.scope = scope
        self.aliases = aliases or {}
        self.refs: list[Ref] = []

    def __call__(self, target: str, path: str) -> str:
        return self.to(*self.aliases.get(target, (target, self.scope)), path)

    def to(self, target: str, scope: str, path: str) -> str:
        """Record a target in an explicit scope: a branch's first state, a branch's exit."""
        self.refs.append(Ref(target, path, scope))
        return target


@dataclass
class Draft:
    """One declared step name.

    `node` is None for a step too broken to compile (its refs still count, so that one bad
    step does not make the steps after it look unreachable) and for an alias.
    """

    id: str
    path: str
    node: Node | None
    refs: list[Ref] = field(default_factory=list)  # every edge out of the step
    scope: str = ""
    service_path: str = ""  # where the service name is written, for service steps
    alias: bool = False  # a name that compiles to no node of its own
    inner: list[Draft] = field(default_factory=list)  # a map's iterator steps


@dataclass
class Outline:
    key: str
    name: str
    start: Ref | None  # None when the document names no usable start
    drafts: list[Draft]
    description: str = ""
    version_label: str = ""
    variables: dict[str, VariableSpec] = field(default_factory=dict)
    strict_variables: bool = False
    triggers: tuple[StartTrigger, ...] = ()
    retention: float | None = None  # seconds
