"""The pure walk of an inclusive gateway: the split takes every branch that holds; the join
waits while another token can still reach it, not for one that cannot; `release` fires a
waiting join once nothing can reach it any more."""

from collections import Counter

from processes.dsl.graph import Condition, Graph, Node
from processes.engine import routing
from processes.nodes import NodeType


def svc(node_id: str, *next_ids: str) -> Node:
    return Node(id=node_id, name=node_id, type=NodeType.SERVICE, next=next_ids, service="s")


def gateway(node_id: str, *conditions: Condition, default: str = "") -> Node:
    return Node(
        id=node_id, name=node_id, type=NodeType.INCLUSIVE, conditions=conditions, default=default
    )


# start -> split -(a)-> A -> join -> after; split -(b)-> join directly; elsewhere -> end
GRAPH = Graph(
    key="g",
    name="g",
    start="start",
    nodes={
        n.id: n
        for n in (
            svc("start", "split"),
            gateway("split", Condition("${a}", "A"), Condition("${b}", "join"), default="C"),
            svc("A", "join"),
            svc("C", "join"),
            gateway("join", default="after"),
            svc("after"),
            svc("elsewhere"),
        )
    },
)


def walk(variables, *, waiting=None, tokens=None, source="start") -> routing.Plan:
    return routing.route(
        GRAPH,
        source=source,
        targets=GRAPH.node(source).next,
        variables=variables,
        waiting_at=lambda join_id: Counter(waiting or {}),
        tokens_at=lambda: Counter(tokens or {}),
    )


def test_split__takes_every_branch_that_holds_and_the_join_waits_for_the_one_on_its_way():
    plan = walk({"a": True, "b": True})
    assert [c.target for c in plan.of(routing.Choose)] == ["A", "join"]
    assert plan.of(routing.Activate) == [routing.Activate("A", "split")]
    assert plan.of(routing.Wait) == [routing.Wait("join", "split")]


def test_split__default_only_when_nothing_holds():
    plan = walk({"a": False, "b": False})
    assert plan.of(routing.Activate) == [routing.Activate("C", "split")]


def test_join__fires_when_the_other_tokens_cannot_reach_it():
    plan = walk({}, waiting={"split": 1}, tokens={"join": 1, "elsewhere": 1}, source="A")
    assert plan.of(routing.Join) == [routing.Join("join", "A", ("split",))]
    assert plan.of(routing.Activate) == [routing.Activate("after", "join")]


def test_join__waits_while_a_token_upstream_can_still_reach_it():
    plan = walk({}, tokens={"C": 1}, source="A")
    assert plan.of(routing.Wait) == [routing.Wait("join", "A")]
    assert not plan.of(routing.Activate)


def test_release__fires_once_nothing_can_reach_the_join_and_not_before():
    def release(tokens):
        return routing.release(
            GRAPH,
            join_id="join",
            variables={},
            waiting_at=lambda join_id: Counter({"A": 1}),
            tokens_at=lambda: Counter(tokens),
        )

    assert release({"join": 1, "C": 1}).actions == []
    fired = release({"join": 1, "elsewhere": 1})
    assert fired.of(routing.Join) == [routing.Join("join", "", ("A",))]
    assert fired.of(routing.Activate) == [routing.Activate("after", "join")]


def test_graph__upstream_of_a_join_stops_at_the_join_itself():
    assert GRAPH.upstream("join") == {"start", "split", "A", "C"}
    assert GRAPH.reachable_joins == ("join",)
