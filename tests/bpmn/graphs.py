"""Graphs for the BPMN export tests: every node kind, catch routes, a loop, hostile names."""

from __future__ import annotations

from pathlib import Path

from processes.dsl import compile_definition, format_of_file
from processes.dsl.graph import (
    ALL_ERRORS,
    CatchRule,
    Condition,
    Graph,
    Node,
)
from processes.nodes import NodeType

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").iterdir())


def example_graph(path: Path) -> Graph:
    return compile_definition(path.read_text(), format_of_file(path.name))


def graph(*nodes: Node, start: str | None = None, key: str = "test") -> Graph:
    return Graph(key=key, name=key, start=start or nodes[0].id, nodes={n.id: n for n in nodes})


def every_kind() -> Graph:
    """A service step whose errors are caught, a user step, an exclusive choice, a parallel
    fork and join, an end and a fail."""
    return graph(
        Node(
            "charge",
            "Charge the card",
            NodeType.SERVICE,
            next=("review",),
            service="charge",
            catch=(
                CatchRule(("CardDeclined",), "declined"),
                CatchRule((ALL_ERRORS,), "broken"),
            ),
        ),
        Node("review", "Review", NodeType.USER, next=("route",)),
        Node(
            "route",
            "Big order?",
            NodeType.EXCLUSIVE,
            conditions=(Condition("${total > 100}", "fork"),),
            default="done",
        ),
        Node("fork", "fork", NodeType.PARALLEL, next=("pack", "bill")),
        Node("pack", "Pack", NodeType.SERVICE, next=("join",), service="pack"),
        Node("bill", "Bill", NodeType.USER, next=("join",)),
        Node("join", "join", NodeType.PARALLEL, next=("done",)),
        Node("done", "Done", NodeType.END),
        Node("declined", "Declined", NodeType.END),
        Node("broken", "Broken", NodeType.FAIL, error="PaymentBroken", cause="no card"),
    )


def with_loop() -> Graph:
    """A review that may send the work back to be done again."""
    return graph(
        Node("work", "Do the work", NodeType.USER, next=("check",)),
        Node(
            "check",
            "Good enough?",
            NodeType.EXCLUSIVE,
            conditions=(Condition("${ok}", "end"),),
            default="work",
        ),
        Node("end", "End", NodeType.END),
    )


HOSTILE_NAME = "<script>alert(\"x\")</script> & \x01 ]]> 'quoted'"
HOSTILE_ID = 'a b<"&>/ü:1'


def hostile() -> Graph:
    """Step ids that are no XML names and step names full of markup and control bytes."""
    return graph(
        Node(HOSTILE_ID, HOSTILE_NAME, NodeType.SERVICE, next=("1st",), service="s"),
        Node("1st", "x" * 500, NodeType.SERVICE, next=("a_b",), service="s"),
        Node(
            "a_b",
            "plain",
            NodeType.EXCLUSIVE,
            conditions=(Condition('${a < 2 && b == "]]>"}', "end"),),
            default="end",
        ),
        Node("end", HOSTILE_NAME, NodeType.END),
    )
