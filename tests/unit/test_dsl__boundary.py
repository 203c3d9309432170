"""Boundary events as written: JSON `config.boundary` on service and user steps, YAML
`boundary:` on task and user states; their problems with JSON pointers; their `next` as an
edge of the graph; their BPMN timer boundary events. Pure: no database."""

import json

import pytest

from processes.bpmn.export import graph_bpmn
from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import BoundaryEvent, Graph

REMINDER = {"type": "timer", "duration": "1d", "interrupting": False, "next": "remind"}


def document(boundary, *, step_type="user_task", config=None) -> dict:
    config = config or {"assignee": "bob"}
    return {
        "name": "boundary",
        "steps": [
            {
                "id": "approve",
                "type": step_type,
                "config": {**config, "boundary": boundary},
                "next": "done",
            },
            {"id": "escalate", "type": "end"},
            {"id": "remind", "type": "end"},
            {"id": "done", "type": "end"},
        ],
    }


def compile_json(boundary, **kwargs) -> Graph:
    doc = document(boundary, **kwargs)
    doc["steps"][0]["config"]["boundary"] = [
        *boundary,
        *([] if any(b.get("next") == "escalate" for b in boundary) else [_reach("escalate")]),
        *([] if any(b.get("next") == "remind" for b in boundary) else [_reach("remind")]),
    ]
    return compile_definition(json.dumps(doc), "json")


def _reach(target: str) -> dict:
    return {"type": "timer", "duration": "9d", "next": target}


def json_problems(boundary, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_json(boundary, **kwargs)
    return [(p.path, p.message) for p in caught.value.problems]


def test_json__reads_timer_events_with_their_defaults():
    node = compile_json(
        [{"type": "timer", "duration": "3d", "next": "escalate"}, {**REMINDER, "repeat": 2}]
    ).node("approve")
    assert node.boundary == (
        BoundaryEvent(type="timer", next="escalate", wait_seconds=259200),
        BoundaryEvent(
            type="timer", next="remind", interrupting=False, wait_seconds=86400, repeat=2
        ),
    )
    assert node.targets() == ("done", "escalate", "remind")


def test_json__repeat_forever_and_until_on_a_service_step():
    graph = compile_json(
        [
            {**REMINDER, "repeat": "forever"},
            {"type": "timer", "until": "${deadline}", "next": "escalate"},
        ],
        step_type="service_task",
        config={"service_name": "demo.noop"},
    )
    reminder, deadline = graph.node("approve").boundary
    assert reminder.repeat is None
    assert (deadline.wait_seconds, deadline.wait_until) == (None, "${deadline}")


def test_stored_graph__keeps_its_boundary_events():
    graph = compile_json([{**REMINDER, "repeat": 3}])
    assert Graph.from_dict(json.loads(json.dumps(graph.to_dict()))) == graph


@pytest.mark.parametrize(
    ("event", "path", "message"),
    [
        (
            {"type": "email", "duration": "1d", "next": "escalate"},
            "/steps/0/config/boundary/0/type",
            "'type' must be one of: timer, message, signal",
        ),
        (
            {"type": "timer", "duration": "1d", "next": "nowhere"},
            "/steps/0/config/boundary/0/next",
            "unknown step 'nowhere'",
        ),
        (
            {"type": "timer", "next": "escalate"},
            "/steps/0/config/boundary/0",
            "a timer needs 'duration' (how long to wait) or 'until' (until when)",
        ),
        (
            {"type": "timer", "duration": "1d", "until": "${d}", "next": "escalate"},
            "/steps/0/config/boundary/0/until",
            "give either 'duration' or 'until', not both",
        ),
        (
            {"type": "timer", "duration": "soon", "next": "escalate"},
            "/steps/0/config/boundary/0/duration",
            None,
        ),
        (
            {"type": "timer", "duration": "1d", "repeat": 2, "next": "escalate"},
            "/steps/0/config/boundary/0/repeat",
            "'repeat' needs 'interrupting': false (an interrupting event fires once)",
        ),
        (
            {**REMINDER, "duration": None, "until": "2026-12-01T09:00:00Z", "repeat": 2},
            "/steps/0/config/boundary/0/repeat",
            "'repeat' needs a 'duration' (the time between two firings)",
        ),
        (
            {**REMINDER, "repeat": "often"},
            "/steps/0/config/boundary/0/repeat",
            "'repeat' must be a whole number or \"forever\"",
        ),
        (
            {**REMINDER, "repeat": 0},
            "/steps/0/config/boundary/0/repeat",
            "'repeat' must be at least 1",
        ),
        (
            {"type": "timer", "duration": "1d", "interrupting": "yes", "next": "escalate"},
            "/steps/0/config/boundary/0/interrupting",
            "'interrupting' must be true or false, not a string",
        ),
    ],
)
def test_json__problems_name_the_place(event, path, message):
    found = json_problems([event])
    assert path in [p for p, _ in found]
    if message is not None:
        assert (path, message) in found


def test_json__a_boundary_on_a_gateway_or_timer_step_is_refused():
    doc = {
        "name": "gateway",
        "steps": [
            {
                "id": "wait",
                "type": "timer",
                "config": {"duration": "1h", "boundary": [_reach("done")]},
                "next": "done",
            },
            {"id": "done", "type": "end"},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_definition(json.dumps(doc), "json")
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("/steps/0/config/boundary", "a 'timer' step cannot have boundary events")
    ]


def test_json__a_step_reached_only_by_a_boundary_is_reachable():
    graph = compile_json([{"type": "timer", "duration": "3d", "next": "escalate"}])
    assert "approve" in graph.predecessors("escalate")


YAML = """
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: boundary}
spec:
  startAt: approve
  states:
    - name: approve
      type: user
      assignee: bob
      boundary:
        - {type: timer, duration: 3d, next: escalate}
        - {type: timer, duration: 1d, interrupting: false, repeat: forever, next: remind}
      next: charge
    - name: charge
      type: task
      resource: demo.noop
      boundary:
        - {type: timer, until: "${deadline}", next: escalate}
      end: true
    - {name: escalate, type: succeed}
    - {name: remind, type: succeed}
"""


def test_yaml__reads_boundary_on_task_and_user_states():
    graph = compile_definition(YAML, "yaml")
    escalate, remind = graph.node("approve").boundary
    assert (escalate.wait_seconds, escalate.interrupting, escalate.repeat) == (259200, True, 1)
    assert (remind.interrupting, remind.repeat) == (False, None)
    assert graph.node("charge").boundary[0].wait_until == "${deadline}"


def test_yaml__problems_name_the_place():
    with pytest.raises(DefinitionError) as caught:
        compile_definition(YAML.replace("type: timer, until", "type: email, until"), "yaml")
    assert ("/spec/states/1/boundary/0/type", "'type' must be one of: timer, message, signal") in [
        (p.path, p.message) for p in caught.value.problems
    ]


def test_bpmn__timer_boundary_events_attached_to_the_task():
    graph = compile_json(
        [{"type": "timer", "duration": "3d", "next": "escalate"}, {**REMINDER, "repeat": 2}]
    )
    xml = graph_bpmn(graph)
    assert '<bpmn:boundaryEvent id="Timer_approve_1" attachedToRef="Step_approve">' in xml
    assert (
        '<bpmn:boundaryEvent id="Timer_approve_2" attachedToRef="Step_approve"'
        ' cancelActivity="false">'
    ) in xml
    assert ">PT259200S</bpmn:timeDuration>" in xml
    assert ">R2/PT86400S</bpmn:timeCycle>" in xml
    assert 'sourceRef="Timer_approve_1" targetRef="Step_escalate"' in xml


IN_BRANCH = """
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: branches}
spec:
  startAt: both
  states:
    - name: both
      type: parallel
      branches:
        - startAt: approve
          states:
            - name: approve
              type: user
              assignee: bob
              boundary:
                - {type: timer, duration: 1d, interrupting: INTERRUPTING, next: remind}
              end: true
            - {name: remind, type: task, resource: demo.noop, end: true}
        - startAt: other
          states:
            - {name: other, type: user, assignee: ann, end: true}
      next: done
    - {name: done, type: succeed}
"""


def test_yaml__a_non_interrupting_event_inside_a_parallel_branch_is_refused():
    """Its path would reach the join as the branch's answer while the task still waits."""
    with pytest.raises(DefinitionError) as caught:
        compile_definition(IN_BRANCH.replace("INTERRUPTING", "false"), "yaml")
    pointer = "/spec/states/0/branches/0/states/0/boundary/0/interrupting"
    assert any(
        p.path == pointer and "inside a parallel branch" in p.message
        for p in caught.value.problems
    ), caught.value.problems
    graph = compile_definition(IN_BRANCH.replace("INTERRUPTING", "true"), "yaml")
    assert graph.node("approve").boundary[0].interrupting
