"""Graph walking: given where a token leaves from, where does the instance go next?

Pure: no ORM. The caller passes the instance's variables and a way to read how many
tokens already wait at a join; `route` returns a `Plan`, the ordered list of what happened
on the way (gateways passed, joins reached or completed, steps to activate, paths that
ended, failures). The services apply the plan under the instance's row lock, which is what
makes a join fire exactly once.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from processes.dsl.graph import Graph, NodeType
from processes.engine.expressions import ExpressionError, condition

# A walk that passes this many gateways without reaching a step that waits is a loop.
MAX_HOPS = 10_000

NO_CHOICE_MATCHED = "NoChoiceMatched"
EXPRESSION_ERROR = "ExpressionError"
ROUTING_LOOP = "RoutingLoop"


@dataclass(frozen=True)
class Activate:
    """A service or user step receives a token."""

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


WaitingAt = Callable[[str], Counter]


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
    plan = Plan()
    if not targets:
        plan.actions.append(End(source))
        return plan
    arrivals: dict[str, Counter] = {}
    queue = deque((target, source) for target in targets)
    hops = 0
    while queue:
        node_id, arrived_from = queue.popleft()
        hops += 1
        if hops > MAX_HOPS:
            plan.actions.append(
                Fail(node_id, arrived_from, ROUTING_LOOP, "gateways loop without a waiting step")
            )
            return plan
        node = graph.node(node_id)
        if node.type in (NodeType.SERVICE, NodeType.USER):
            plan.actions.append(Activate(node_id, arrived_from))
        elif node.type == NodeType.END:
            plan.actions.append(End(node_id))
        elif node.type == NodeType.FAIL:
            plan.actions.append(
                Fail(node_id, arrived_from, node.error or "Failed", node.cause or node.name)
            )
        elif node.type == NodeType.EXCLUSIVE:
            chosen = _choose(graph, node_id, arrived_from, variables)
            plan.actions.append(chosen)
            if isinstance(chosen, Choose):
                queue.append((chosen.target, node_id))
        elif graph.is_join(node_id):
            if node_id not in arrivals:
                arrivals[node_id] = Counter(waiting_at(node_id))
            joined = _arrive(graph, node_id, arrived_from, arrivals[node_id])
            plan.actions.append(joined)
            if isinstance(joined, Join):
                _pass_on(graph, node_id, queue, plan)
        else:
            _pass_on(graph, node_id, queue, plan)
    return plan


def _pass_on(graph: Graph, node_id: str, queue: deque, plan: Plan) -> None:
    """A parallel gateway forks to all its targets; one with none ends its path."""
    targets = graph.node(node_id).next
    if targets:
        queue.extend((target, node_id) for target in targets)
    else:
        plan.actions.append(End(node_id))


def _choose(graph: Graph, node_id: str, arrived_from: str, variables: Mapping) -> Choose | Fail:
    node = graph.node(node_id)
    for branch in node.conditions:
        try:
            matched = condition(branch.expression, variables)
        except ExpressionError as exc:
            return Fail(node_id, arrived_from, EXPRESSION_ERROR, str(exc))
        if matched:
            return Choose(node_id, branch.next, branch.expression)
    if node.default:
        return Choose(node_id, node.default, "")
    return Fail(
        node_id, arrived_from, NO_CHOICE_MATCHED, "no condition matched and there is no default"
    )


def _arrive(graph: Graph, node_id: str, arrived_from: str, waiting: Counter) -> Join | Wait:
    others = [p for p in graph.predecessors(node_id) if p != arrived_from]
    if all(waiting[p] > 0 for p in others):
        for p in others:
            waiting[p] -= 1
        return Join(node_id, arrived_from, tuple(others))
    waiting[arrived_from] += 1
    return Wait(node_id, arrived_from)
