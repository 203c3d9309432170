"""Graph walking: given where a token leaves from, where does the instance go next?

Pure: no ORM. The caller passes the instance's variables and a way to read how many
tokens already wait at a join; `route` returns a `Plan`, the ordered list of what happened
on the way (gateways passed, joins reached or completed, steps to activate, paths that
ended, failures). What a token does at a node is its kind's `walk` (`processes.nodes`).
The services apply the plan under the instance's row lock, which is what makes a join
fire exactly once.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from processes.dsl.graph import Graph
from processes.engine.plan import (
    EXPRESSION_ERROR,
    NO_CHOICE_MATCHED,
    ROUTING_LOOP,
    Action,
    Activate,
    Choose,
    End,
    Fail,
    Join,
    Plan,
    Wait,
)
from processes.nodes import node_kind

__all__ = [
    "EXPRESSION_ERROR",
    "NO_CHOICE_MATCHED",
    "ROUTING_LOOP",
    "Action",
    "Activate",
    "Choose",
    "End",
    "Fail",
    "Join",
    "Plan",
    "Wait",
    "Walk",
    "route",
]

# A walk that passes this many gateways without reaching a step that waits is a loop.
MAX_HOPS = 10_000

WaitingAt = Callable[[str], Counter]


class Walk:
    """One walk in progress: what the node kinds see of it and add to it."""

    def __init__(self, graph: Graph, variables: Mapping[str, Any], waiting_at: WaitingAt):
        self.graph = graph
        self.variables = variables
        self.plan = Plan()
        self._waiting_at = waiting_at
        self._arrivals: dict[str, Counter] = {}
        self.pending: deque[tuple[str, str]] = deque()  # (node, arrived from), in order

    def emit(self, action: Action) -> None:
        self.plan.actions.append(action)

    def go(self, target: str, arrived_from: str) -> None:
        """Hand a token on to `target`."""
        self.pending.append((target, arrived_from))

    def arrivals(self, join_id: str) -> Counter:
        """Tokens waiting at a join by predecessor: those stored, and this walk's."""
        if join_id not in self._arrivals:
            self._arrivals[join_id] = Counter(self._waiting_at(join_id))
        return self._arrivals[join_id]


def route(
    graph: Graph,
    *,
    source: str,
    targets: tuple[str, ...] | list[str],
    variables: Mapping[str, Any],
    waiting_at: WaitingAt,
) -> Plan:
    """Walk from `source` into each of `targets` until every path waits, ends or fails.

    `waiting_at(join_id)` counts the tokens already waiting at a join by predecessor;
    arrivals and joins in this walk are accounted on top of it.
    """
    walk = Walk(graph, variables, waiting_at)
    if not targets:
        walk.emit(End(source))
        return walk.plan
    for target in targets:
        walk.go(target, source)
    hops = 0
    while walk.pending:
        node_id, arrived_from = walk.pending.popleft()
        hops += 1
        if hops > MAX_HOPS:
            message = "gateways loop without a waiting step"
            walk.emit(Fail(node_id, arrived_from, ROUTING_LOOP, message))
            return walk.plan
        node = graph.node(node_id)
        node_kind(node).walk(node, arrived_from, walk)
    return walk.plan
