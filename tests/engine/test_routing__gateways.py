"""The pure graph walk: gateways, forks, joins and ends, without a database."""

from collections import Counter

from processes.dsl.graph import Condition, Graph, Node
from processes.engine import routing
from processes.nodes import NodeType


def graph(*nodes: Node, start: str | None = None) -> Graph:
    return Graph(key="g", name="g", start=start or nodes[0].id, nodes={n.id: n for n in nodes})


def svc(node_id: str, *next_ids: str) -> Node:
    return Node(id=node_id, name=node_id, type=NodeType.SERVICE, next=next_ids, service="s")


def nothing_waiting(_join_id: str) -> Counter:
    return Counter()


APPROVAL = graph(
    svc("a", "gw"),
    Node(
        id="gw",
        name="gw",
        type=NodeType.EXCLUSIVE,
        conditions=(
            Condition("${amount > 1000}", "manager"),
            Condition("${amount > 10}", "clerk"),
        ),
        default="auto",
    ),
    svc("manager"),
    svc("clerk"),
    svc("auto"),
)


def walk(g: Graph, source: str, variables: dict, waiting=nothing_waiting) -> routing.Plan:
    return routing.route(
        g, source=source, targets=g.node(source).next, variables=variables, waiting_at=waiting
    )


def test_exclusive__first_matching_condition_in_declared_order():
    plan = walk(APPROVAL, "a", {"amount": 5000})
    assert plan.of(routing.Choose) == [routing.Choose("gw", "manager", "${amount > 1000}")]
    assert plan.of(routing.Activate) == [routing.Activate("manager", "gw")]


def test_exclusive__default_when_nothing_matches():
    plan = walk(APPROVAL, "a", {"amount": 5})
    assert plan.of(routing.Activate) == [routing.Activate("auto", "gw")]


def test_exclusive__no_match_and_no_default_fails_with_no_choice_matched():
    no_default = graph(
        svc("a", "gw"),
        Node(id="gw", name="gw", type=NodeType.EXCLUSIVE, conditions=(Condition("${x}", "b"),)),
        svc("b"),
    )
    [failure] = walk(no_default, "a", {"x": False}).of(routing.Fail)
    assert (failure.node_id, failure.error) == ("gw", routing.NO_CHOICE_MATCHED)


def test_exclusive__bad_expression_is_a_failure_not_an_exception():
    [failure] = walk(APPROVAL, "a", {}).of(routing.Fail)
    assert failure.error == routing.EXPRESSION_ERROR
    assert "amount" in failure.message


PARALLEL = graph(
    svc("a", "b1", "b2", "b3"),
    svc("b1", "join"),
    svc("b2", "join"),
    svc("b3", "join"),
    Node(id="join", name="join", type=NodeType.PARALLEL, next=("after",)),
    svc("after"),
)


def test_fork__a_step_with_several_next_activates_them_all():
    plan = walk(PARALLEL, "a", {})
    assert [a.node_id for a in plan.of(routing.Activate)] == ["b1", "b2", "b3"]


def test_join__waits_until_every_branch_arrived_then_continues_once():
    first = walk(PARALLEL, "b1", {})
    assert first.of(routing.Wait) == [routing.Wait("join", "b1")]
    assert not first.of(routing.Activate)

    second = walk(PARALLEL, "b3", {}, waiting=lambda _j: Counter({"b1": 1}))
    assert second.of(routing.Wait) == [routing.Wait("join", "b3")]

    last = walk(PARALLEL, "b2", {}, waiting=lambda _j: Counter({"b1": 1, "b3": 1}))
    assert last.of(routing.Join) == [routing.Join("join", "b2", ("b1", "b3"))]
    assert last.of(routing.Activate) == [routing.Activate("after", "join")]


def test_end__a_step_without_next_ends_its_path():
    assert walk(PARALLEL, "after", {}).actions == [routing.End("after")]


def test_gateway_loop_without_waiting_step_fails_instead_of_spinning():
    looping = graph(
        svc("a", "gw"),
        Node(id="gw", name="gw", type=NodeType.EXCLUSIVE, conditions=(Condition("${True}", "gw"),)),
    )
    [failure] = walk(looping, "a", {}).of(routing.Fail)
    assert failure.error == routing.ROUTING_LOOP
