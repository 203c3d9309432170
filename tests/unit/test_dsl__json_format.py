"""The JSON format compiles to the graph: every step type and field, defaults, lines."""

import json

import pytest

from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import (
    ALL_ERRORS,
    CatchRule,
    Condition,
    FormField,
    Graph,
    RetryRule,
)
from processes.nodes import NodeType

ORDER = {
    "name": "Order",
    "key": "order-flow",
    "description": "An order from payment to shipping",
    "version": "2.1",
    "variables": {"amount": "number", "customer": {"type": "object"}},
    "start": "charge",
    "steps": [
        {
            "id": "charge",
            "name": "Charge the card",
            "type": "service_task",
            "config": {
                "service_name": "Payments",
                "method": "charge",
                "input": {"amount": "${amount}", "note": "for ${customer.name}"},
                "timeout": "30s",
                "retry_policy": {
                    "max_attempts": 5,
                    "backoff": "exponential",
                    "interval": "2s",
                    "errors": ["Timeout", "Busy"],
                },
                "catch": [
                    {"error_equals": ["CardDeclined"], "next": "declined"},
                    {"errorEquals": "States.ALL", "next": "declined"},
                ],
            },
            "next": "route",
        },
        {
            "id": "route",
            "type": "exclusive_gateway",
            "config": {
                "conditions": [
                    {"expression": "${amount > 1000}", "next": "approve"},
                    {"expression": "amount <= 0", "next": "declined"},
                ],
                "default": "ship",
            },
        },
        {
            "id": "approve",
            "type": "user_task",
            "config": {
                "assignee": "${customer.manager}",
                "candidate_users": ["ann", "bob"],
                "candidate_groups": "approvers",
                "due_date": "2h",
                "priority": 5,
                "form": {
                    "approved": "boolean",
                    "reason": {"type": "choice", "required": True, "choices": ["ok", "risky"]},
                    "limit": {
                        "type": "number",
                        "label": "Limit",
                        "help": "In euros",
                        "min": 0,
                        "max": 10000,
                        "default": 100,
                    },
                },
            },
            "next": ["done"],
        },
        {"id": "ship", "type": "parallel_gateway", "next": ["pack", "invoice"]},
        {
            "id": "pack",
            "type": "service_task",
            "config": {"service_name": "Pack"},
            "next": "joined",
        },
        {
            "id": "invoice",
            "type": "service_task",
            "config": {"service_name": "Bill"},
            "next": "joined",
        },
        {"id": "joined", "type": "parallel_gateway", "next": "done"},
        {"id": "done", "type": "end"},
        {"id": "declined", "type": "fail", "config": {"error": "Declined", "cause": "card"}},
    ],
}


def compile_json(document: dict) -> Graph:
    return compile_definition(json.dumps(document), "json")


def test_document_fields():
    graph = compile_json(ORDER)
    assert (graph.key, graph.name, graph.start) == ("order-flow", "Order", "charge")
    assert graph.description == "An order from payment to shipping"
    assert graph.version_label == "2.1"
    declared = {name: spec.type for name, spec in graph.variables.items()}
    assert declared == {"amount": "number", "customer": "object"}
    assert list(graph.nodes) == [step["id"] for step in ORDER["steps"]]


def test_service_task():
    node = compile_json(ORDER).node("charge")
    assert (node.type, node.name, node.service) == (
        NodeType.SERVICE,
        "Charge the card",
        "Payments.charge",
    )
    assert node.input == {"amount": "${amount}", "note": "for ${customer.name}"}
    assert node.timeout_seconds == 30.0
    assert node.retry == (RetryRule(("Timeout", "Busy"), 2.0, 5, 2.0),)
    assert node.catch == (
        CatchRule(("CardDeclined",), "declined"),
        CatchRule(("States.ALL",), "declined"),
    )
    assert node.next == ("route",)


def test_retry_policy_defaults():
    step = {"id": "a", "type": "service_task", "config": {"service_name": "S", "retry_policy": {}}}
    node = compile_json({"name": "p", "steps": [step]}).node("a")
    assert node.retry == (
        RetryRule((ALL_ERRORS,), interval_seconds=1.0, max_attempts=3, backoff_rate=1.0),
    )
    assert node.service == "S"
    assert (node.input, node.timeout_seconds, node.catch) == (None, None, ())


def test_no_retry_policy_means_no_retry():
    step = {"id": "a", "type": "service_task", "config": {"service_name": "S"}}
    assert compile_json({"name": "p", "steps": [step]}).node("a").retry == ()


def test_exclusive_gateway():
    node = compile_json(ORDER).node("route")
    assert node.type == NodeType.EXCLUSIVE
    assert node.conditions == (
        Condition("${amount > 1000}", "approve"),
        Condition("amount <= 0", "declined"),
    )
    assert (node.default, node.next) == ("ship", ())


def test_a_lone_next_of_an_exclusive_gateway_is_its_default():
    gateway = {
        "id": "g",
        "type": "exclusive_gateway",
        "config": {"conditions": [{"expression": "x", "next": "a"}]},
        "next": ["b"],
    }
    steps = [gateway, {"id": "a", "type": "end"}, {"id": "b", "type": "end"}]
    assert compile_json({"name": "p", "steps": steps}).node("g").default == "b"


def test_user_task():
    node = compile_json(ORDER).node("approve")
    assert node.type == NodeType.USER
    assert node.assignee == "${customer.manager}"
    assert node.candidate_users == ("ann", "bob")
    assert node.candidate_groups == ("approvers",)
    assert (node.due_in_seconds, node.priority) == (7200.0, 5)
    assert node.form == {
        "approved": FormField("boolean"),
        "reason": FormField("choice", required=True, choices=("ok", "risky")),
        "limit": FormField("number", label="Limit", help="In euros", min=0, max=10000, default=100),
    }


def test_parallel_fork_and_join():
    graph = compile_json(ORDER)
    assert graph.node("ship").next == ("pack", "invoice")
    assert graph.is_join("joined")
    assert not graph.is_join("ship")


def test_end_and_fail():
    graph = compile_json(ORDER)
    assert graph.node("done").type == NodeType.END
    fail = graph.node("declined")
    assert (fail.type, fail.error, fail.cause) == (NodeType.FAIL, "Declined", "card")


def test_defaults_key_start_name_and_next_as_a_string():
    steps = [
        {"id": "first", "type": "service_task", "config": {"service_name": "S"}, "next": "last"},
        {"id": "last", "type": "service_task", "config": {"service_name": "S"}},
    ]
    graph = compile_json({"name": "审批流程", "steps": steps})
    assert (graph.key, graph.name, graph.start) == ("审批流程", "审批流程", "first")
    assert graph.node("first").name == "first"
    assert graph.node("first").next == ("last",)
    # A step without next ends its path as it is, without an end step.
    assert graph.node("last").next == ()


def test_several_next_fork_from_any_step():
    steps = [
        {"id": "a", "type": "user_task", "next": ["b", "c"]},
        {"id": "b", "type": "end"},
        {"id": "c", "type": "end"},
    ]
    assert compile_json({"name": "p", "steps": steps}).node("a").next == ("b", "c")


def test_the_graph_round_trips_through_json():
    graph = compile_json(ORDER)
    stored = json.loads(json.dumps(graph.to_dict()))
    assert Graph.from_dict(stored) == graph


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ('{"name": "p",\n "steps": [\n}', "invalid JSON: Expecting value (line 3, column 1)", 3),
        ("", "invalid JSON: Expecting value (line 1, column 1)", 1),
        ('{"name": NaN}', "invalid JSON: NaN is not a number in JSON", None),
    ],
)
def test_malformed_json_is_one_problem_with_its_position(source, message, line):
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "json")
    [problem] = caught.value.problems
    assert (problem.path, problem.message, problem.line) == ("", message, line)


def test_numbers_too_large_for_a_float_are_problems():
    source = '{"name": "p", "steps": [{"id": "a", "type": "end", "config": {"x": 1e999}}]}'
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "json")
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("/steps/0/config/x", "numbers must be finite")
    ]


def test_problems_carry_json_line_numbers():
    source = """{
  "name": "p",
  "steps": [
    {"id": "a", "type": "service_task",
     "config": {"service_name": "S", "timeout": "soon"},
     "next": ["b",
              "ghost"]},
    {"id": "b", "type": "end"},
    {"id": "c/d~e", "type": "end"}
  ]
}"""
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "json")
    assert [(p.path, p.line) for p in caught.value.problems] == [
        ("/steps/0/config/timeout", 5),
        ("/steps/0/next/1", 7),
        ("/steps/2", 9),
    ]
    assert caught.value.problems[2].step == "c/d~e"
    assert str(caught.value.problems[1]) == "line 7, /steps/0/next/1: unknown step 'ghost'"


def test_missing_fields_point_at_the_enclosing_object_line():
    source = '{\n"name": "p",\n"steps": [\n  {"type": "end"}\n]}'
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "json")
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("/steps/0/id", 4)
