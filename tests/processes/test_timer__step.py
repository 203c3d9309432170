"""The timer step as written: JSON `timer` and YAML `wait`, durations, due times, problems.

Pure: no database. The DB side (the sweeper firing timers) is in test_timer__sweeper.py.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from processes.bpmn.export import graph_bpmn
from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import Graph
from processes.engine.expressions import ExpressionError
from processes.nodes import NodeType
from processes.nodes.timer import wait_due_at

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def timer_doc(config) -> dict:
    return {
        "name": "wait",
        "steps": [
            {"id": "pause", "type": "timer", "config": config, "next": "done"},
            {"id": "done", "type": "end"},
        ],
    }


def compile_json(config) -> Graph:
    return compile_definition(json.dumps(timer_doc(config)), "json")


def problems(source: str, fmt: str = "json") -> list[tuple[str, str | None, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, fmt)
    return [(p.path, p.step, p.message) for p in caught.value.problems]


def json_problems(config) -> list[tuple[str, str | None, str]]:
    return problems(json.dumps(timer_doc(config)))


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("3d", 259200),
        ("PT2H", 7200),
        ("P3D", 259200),
        ("PT1M30S", 90),
        (10, 10),
        ("0s", 0),
    ],
)
def test_json_duration__reads_short_and_iso_8601_forms(written, seconds):
    node = compile_json({"duration": written}).node("pause")
    assert (node.type, node.wait_seconds, node.wait_until, node.next) == (
        NodeType.TIMER,
        seconds,
        "",
        ("done",),
    )


def test_json_until__keeps_a_template_or_an_iso_datetime():
    assert compile_json({"until": "${deadline}"}).node("pause").wait_until == "${deadline}"
    written = "2026-12-01T09:00:00Z"
    assert compile_json({"until": written}).node("pause").wait_until == written


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({}, "/steps/0/config", "a timer needs 'duration' (how long to wait) or 'until'"),
        (
            {"duration": "2h", "until": "${deadline}"},
            "/steps/0/config/until",
            "give either 'duration' or 'until', not both",
        ),
        ({"duration": "soon"}, "/steps/0/config/duration", "is not a duration"),
        ({"duration": "P1Y"}, "/steps/0/config/duration", "is not a duration"),
        ({"duration": -5}, "/steps/0/config/duration", "non-negative"),
        ({"duration": "1000000000d"}, "/steps/0/config/duration", "at most 100 years"),
        ({"until": "next tuesday"}, "/steps/0/config/until", "is not an ISO 8601 date and time"),
        ({"until": "${deadline +}"}, "/steps/0/config/until", "bad expression"),
        ({"until": 20261201}, "/steps/0/config/until", "'until' must be a string"),
    ],
)
def test_json_problems__name_their_pointer_and_step(config, path, message):
    [(found_path, step, found_message)] = json_problems(config)
    assert (found_path, step) == (path, "pause")
    assert message in found_message


def test_yaml_wait__seconds_or_timestamp_then_next_or_end():
    graph = compile_definition(
        """
metadata: {name: waits}
spec:
  states:
    - {name: short, type: wait, seconds: 10, next: until}
    - {name: until, type: wait, timestamp: "${deadline}", end: true}
""",
        "yaml",
    )
    short, until = graph.node("short"), graph.node("until")
    assert (short.type, short.wait_seconds, short.next) == (NodeType.TIMER, 10, ("until",))
    assert (until.wait_seconds, until.wait_until, until.next) == (None, "${deadline}", ())


def test_yaml_wait__problems_name_the_state():
    found = problems(
        """
metadata: {name: waits}
spec:
  states:
    - {name: both, type: wait, seconds: 10, timestamp: "2026-12-01T09:00:00Z", next: none}
    - {name: none, type: wait, end: true}
""",
        "yaml",
    )
    assert [(step, message.split(" (")[0]) for _, step, message in found] == [
        ("both", "give either 'seconds' or 'timestamp', not both"),
        ("none", "a timer needs 'seconds'"),
    ]


def test_due_at__duration_counts_from_arrival():
    node = compile_json({"duration": "PT1M30S"}).node("pause")
    assert wait_due_at(node, {}, now=NOW) == NOW + timedelta(seconds=90)


def test_due_at__until_is_evaluated_against_the_variables():
    node = compile_json({"until": "${deadline}"}).node("pause")
    due = wait_due_at(node, {"deadline": "2026-12-01T09:00:00+01:00"}, now=NOW)
    assert due == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_due_at__a_time_in_the_past_stays_in_the_past():
    node = compile_json({"until": "2020-01-01T00:00:00Z"}).node("pause")
    assert wait_due_at(node, {}, now=NOW) < NOW


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"deadline": "banana"}, "is not an ISO 8601 date and time"),
        ({"deadline": 42}, "gives an integer, not a date and time"),
        ({}, "deadline"),
    ],
)
def test_due_at__a_bad_until_is_an_expression_error(variables, reason):
    node = compile_json({"until": "${deadline}"}).node("pause")
    with pytest.raises(ExpressionError) as caught:
        wait_due_at(node, variables, now=NOW)
    assert reason in str(caught.value)


def test_stored_graph__round_trips_the_wait():
    graph = compile_json({"until": "${deadline}"})
    assert Graph.from_dict(json.loads(json.dumps(graph.to_dict()))) == graph


def test_bpmn__an_intermediate_catch_event_with_a_timer_definition():
    xml = graph_bpmn(compile_json({"duration": "2h"}))
    assert "<bpmn:intermediateCatchEvent" in xml
    assert "<bpmn:timerEventDefinition>" in xml
    assert '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT7200S</' in xml
    xml = graph_bpmn(compile_json({"until": "${deadline}"}))
    assert '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">${deadline}</' in xml
