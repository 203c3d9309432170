"""The node kinds, one module each, and the one registry everything dispatches through.

    kind = node_kind(node)          # what a node of the graph does
    JSON_KINDS["service_task"]      # which kind a JSON step type reads as
    json_kind("http")               # the same, or a registered step type's reader
    YAML_KINDS["task"]              # which kind a YAML state type reads as

Adding a kind is one module under processes/nodes/ and one line in `_MODULES`. The
registry refuses a kind whose names collide with another's; `NodeKind` refuses one that
leaves a part out. Importing this package imports no ORM: the kinds' database hooks import
it when they run.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from processes.nodes import (
    compensate,
    end,
    event_gateway,
    exclusive,
    fail,
    inclusive,
    map_state,
    message_catch,
    parallel,
    service,
    signal_catch,
    subprocess,
    timer,
    user,
)
from processes.nodes.base import NodeKind

if TYPE_CHECKING:
    from processes.dsl.graph import Node

__all__ = [
    "JSON_KINDS",
    "KINDS",
    "YAML_KINDS",
    "NodeKind",
    "NodeType",
    "json_kind",
    "json_type_names",
    "node_kind",
]

# In this order the formats list their step types in messages.
_MODULES = (
    service,
    user,
    subprocess,
    map_state,
    timer,
    message_catch,
    signal_catch,
    exclusive,
    inclusive,
    parallel,
    event_gateway,
    compensate,
    end,
    fail,
)


def kinds_register(kinds: list[NodeKind]) -> dict[str, NodeKind]:
    """The kinds by type; TypeError when one is no NodeKind or two share a name."""
    registry: dict[str, NodeKind] = {}
    for attribute in ("type", "json_type", "yaml_type"):
        seen: dict[str, NodeKind] = {}
        for kind in kinds:
            if not isinstance(kind, NodeKind):
                raise TypeError(f"{kind!r} is not a NodeKind")
            name = getattr(kind, attribute)
            if name in seen:
                raise TypeError(
                    f"node kinds {type(seen[name]).__name__} and {type(kind).__name__}"
                    f" share {attribute} {name}"
                )
            seen[name] = kind
    for kind in kinds:
        registry[kind.type] = kind
    return registry


KINDS: dict[str, NodeKind] = kinds_register([module.KIND for module in _MODULES])
JSON_KINDS: dict[str, NodeKind] = {kind.json_type: kind for kind in KINDS.values()}
YAML_KINDS: dict[str, NodeKind] = {kind.yaml_type: kind for kind in KINDS.values()}

# The stored type names, for code and tests that name one: NodeType.SERVICE == "service".
NodeType = StrEnum("NodeType", {name.upper(): name for name in KINDS})


def node_kind(node: Node) -> NodeKind:
    return KINDS[node.type]


def json_kind(type_name: str) -> NodeKind | None:
    """What reads a JSON step of `type_name`: a node kind, or else the reader of a registered
    step type (`processes.registry.step_type`; its steps become service nodes)."""
    kind = JSON_KINDS.get(type_name)
    if kind is None:
        from processes.nodes.step_types import json_step_type_kind

        kind = json_step_type_kind(type_name)
    return kind


def json_type_names() -> list[str]:
    """Every JSON step type, for messages: the node kinds' and then the step types'."""
    from processes.registry import step_type_names

    return [*JSON_KINDS, *step_type_names()]
