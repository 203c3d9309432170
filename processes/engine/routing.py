"""Graph walking: given where a token leaves from, where does the instance go next?

Pure: no ORM. The caller passes the instance's variables, a way to read how many tokens
already wait at a join and, for OR-joins, where the instance's tokens are; `route` returns
a `Plan`, the ordered list of what happened
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
    "release",
    "route",
]

# A walk that passes this many gateways without reaching a step that waits is a loop.
MAX_HOPS = 10_000

WaitingAt = Callable[[str], Counter]
# The instance's stored tokens by node: resting at a step, failed there, or waiting at a join.
TokensAt = Callable[[], Counter]


def no_tokens() -> Counter:
    return Counter()


class Walk:
    """One walk in progress: what the node kinds see of it and add to it."""

    def __init__(
        self,
        graph: Graph,
        variables: Mapping[str, Any],
        waiting_at: WaitingAt,
        tokens_at: TokensAt = no_tokens,
    ):
        self.graph = graph
        self.variables = variables
        self.plan = Plan()
        self._waiting_at = waiting_at
        self._tokens_at = tokens_at
        self._arrivals: dict[str, Counter] = {}
        self._stored_waiting: dict[str, int] = {}
        self._stored_tokens: Counter | None = None
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
            self._stored_waiting[join_id] = self._arrivals[join_id].total()
        return self._arrivals[join_id]

    def can_still_arrive(self, join_id: str) -> bool:
        """Whether a token other than those waiting at `join_id` can still reach it: one on
        its way in this walk, one this walk placed or failed upstream of it, or a stored one
        resting, failed or waiting at another join upstream of it (joins this walk passed
        counted as they are now)."""
        upstream = self.graph.upstream(join_id)
        if any(node == join_id or node in upstream for node, _ in self.pending):
            return True
        placed = (a.node_id for a in self.plan.actions if isinstance(a, Activate | Fail))
        if any(node in upstream for node in placed):
            return True
        if self._stored_tokens is None:
            self._stored_tokens = self._tokens_at()
        tokens = Counter(self._stored_tokens)
        for other, arrived in self._arrivals.items():
            tokens[other] += arrived.total() - self._stored_waiting[other]
        return any(tokens[node] > 0 for node in upstream)

    def run(self) -> Plan:
        """Hand every pending token on until each path waits, ends or fails."""
        hops = 0
        while self.pending:
            node_id, arrived_from = self.pending.popleft()
            hops += 1
            if hops > MAX_HOPS:
                message = "gateways loop without a waiting step"
                self.emit(Fail(node_id, arrived_from, ROUTING_LOOP, message))
                break
            node = self.graph.node(node_id)
            node_kind(node).walk(node, arrived_from, self)
        return self.plan


def route(
    graph: Graph,
    *,
    source: str,
    targets: tuple[str, ...] | list[str],
    variables: Mapping[str, Any],
    waiting_at: WaitingAt,
    tokens_at: TokensAt = no_tokens,
) -> Plan:
    """Walk from `source` into each of `targets` until every path waits, ends or fails.

    `waiting_at(join_id)` counts the tokens already waiting at a join by predecessor;
    arrivals and joins in this walk are accounted on top of it. `tokens_at()` tells an
    OR-join where the instance's other tokens are (read only when one is reached).
    """
    walk = Walk(graph, variables, waiting_at, tokens_at)
    if not targets:
        walk.emit(End(source))
        return walk.plan
    for target in targets:
        walk.go(target, source)
    return walk.run()


def release(
    graph: Graph,
    *,
    join_id: str,
    variables: Mapping[str, Any],
    waiting_at: WaitingAt,
    tokens_at: TokensAt,
) -> Plan:
    """Tokens wait at OR-join `join_id` and another token moved: fire the join, and walk on
    from it, if no other token can reach it any more; an empty plan if one still can."""
    walk = Walk(graph, variables, waiting_at, tokens_at)
    node = graph.node(join_id)
    node_kind(node).release(node, walk)
    return walk.run()
