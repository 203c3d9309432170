"""What a walk through the graph found: the actions of a `Plan`, in the order they happened.

Pure data, shared by the walk (`processes.engine.routing`), the node kinds that emit the
actions (`processes.nodes`) and the services that apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_CHOICE_MATCHED = "NoChoiceMatched"
EXPRESSION_ERROR = "ExpressionError"
ROUTING_LOOP = "RoutingLoop"


@dataclass(frozen=True)
class Activate:
    """A step that acts on the database receives a token: one that waits (a service or
    user step, a timer...), or a terminate end, which ends the instance."""

    node_id: str
    arrived_from: str


@dataclass(frozen=True)
class Choose:
    """An exclusive gateway chose `target` (by `expression`, or its default when empty)."""

    node_id: str
    target: str
    expression: str


@dataclass(frozen=True)
class Wait:
    """A token arrived at a join whose other branches have not all arrived yet."""

    node_id: str
    arrived_from: str


@dataclass(frozen=True)
class Join:
    """Every branch arrived: one waiting token per predecessor is consumed."""

    node_id: str
    arrived_from: str
    consumed_from: tuple[str, ...]  # the predecessors whose earlier tokens were waiting


@dataclass(frozen=True)
class End:
    node_id: str


@dataclass(frozen=True)
class Fail:
    """The walk cannot go on from `node_id`: the instance fails there."""

    node_id: str
    arrived_from: str
    error: str
    message: str


Action = Activate | Choose | Wait | Join | End | Fail


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)

    def of(self, kind: type) -> list[Any]:
        return [a for a in self.actions if isinstance(a, kind)]
