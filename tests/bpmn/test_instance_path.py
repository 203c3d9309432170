"""Where an instance is and where it went, from its tokens and history, as BPMN ids."""

import json

from processes.bpmn.model import START_ID, graph_picture
from processes.diagram import path_taken
from processes.dsl import compile_definition
from tests.bpmn.graphs import every_kind, with_loop


def flow_ends(picture, flow_ids):
    shapes = picture.shapes
    return {
        (shapes[f.source].step_id or "start", f.to_step) for f in picture.flows if f.id in flow_ids
    }


def test_path__a_fork_passes_on_to_every_branch_and_waits_in_them():
    picture = graph_picture(every_kind())
    events = [
        ("WORKFLOW_STARTED", "", {}),
        ("TASK_COMPLETED", "charge", {}),
        ("TASK_COMPLETED", "review", {}),
        ("GATEWAY_EVALUATED", "route", {"next": "fork"}),
    ]
    tokens = [
        ("charge", "done", ""),
        ("review", "done", "charge"),
        ("pack", "active", "fork"),
        ("bill", "active", "fork"),
    ]
    path = path_taken(picture, events=events, tokens=tokens)
    assert path.waiting == ["Step_pack", "Step_bill"]
    assert path.failed == []
    assert path.passed == [START_ID, "Step_charge", "Step_review", "Step_route", "Step_fork"]
    assert flow_ends(picture, path.flows) == {
        ("start", "charge"),
        ("charge", "review"),
        ("review", "route"),
        ("route", "fork"),
        ("fork", "pack"),
        ("fork", "bill"),
    }


def test_path__a_caught_error_takes_its_boundary_event_a_fail_step_is_red():
    picture = graph_picture(every_kind())
    events = [
        ("WORKFLOW_STARTED", "", {}),
        ("TASK_FAILED", "charge", {"error": "Boom", "next": "broken"}),
        ("TASK_FAILED", "broken", {"error": "PaymentBroken"}),
        ("WORKFLOW_FAILED", "broken", {}),
    ]
    tokens = [("charge", "done", ""), ("broken", "failed", "charge")]
    path = path_taken(picture, events=events, tokens=tokens)
    assert path.failed == ["Step_broken"]
    assert "Catch_charge_2" in path.passed  # the "any error" boundary event
    (caught,) = [f for f in picture.flows if f.id in path.flows and f.caught]
    assert caught.source == "Catch_charge_2"


def test_path__a_loop_marks_each_flow_once():
    picture = graph_picture(with_loop())
    events = [
        ("WORKFLOW_STARTED", "", {}),
        ("TASK_COMPLETED", "work", {}),
        ("GATEWAY_EVALUATED", "check", {"next": "work"}),
        ("TASK_COMPLETED", "work", {}),
        ("GATEWAY_EVALUATED", "check", {"next": "end"}),
    ]
    path = path_taken(
        picture, events=events, tokens=[("work", "done", ""), ("work", "done", "check")]
    )
    assert len(path.flows) == len(picture.flows) == 4
    assert path.passed == [START_ID, "Step_work", "Step_check", "Step_end"]


def test_path__a_fired_boundary_timer_takes_its_event_a_completed_step_its_next():
    doc = {
        "name": "escalation",
        "steps": [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "bob",
                    "boundary": [{"type": "timer", "duration": "3d", "next": "escalate"}],
                },
                "next": "done",
            },
            {"id": "escalate", "type": "end"},
            {"id": "done", "type": "end"},
        ],
    }
    picture = graph_picture(compile_definition(json.dumps(doc), "json"))
    fired = path_taken(
        picture,
        events=[("WORKFLOW_STARTED", "", {}), ("TIMER_FIRED", "approve", {})],
        tokens=[("approve", "cancelled", ""), ("escalate", "done", "approve")],
    )
    assert flow_ends(picture, fired.flows) == {("start", "approve"), ("approve", "escalate")}
    assert "Timer_approve_1" in fired.passed
    completed = path_taken(
        picture,
        events=[("WORKFLOW_STARTED", "", {}), ("TASK_COMPLETED", "approve", {})],
        tokens=[("approve", "done", "")],
    )
    assert flow_ends(picture, completed.flows) == {("start", "approve"), ("approve", "done")}
    assert "Timer_approve_1" not in completed.passed


def test_path__a_compensate_step_that_is_done_passes_on_to_its_next():
    graph = compile_definition(
        json.dumps(
            {
                "name": "saga",
                "steps": [
                    {
                        "id": "charge",
                        "type": "service_task",
                        "config": {"service_name": "charge", "compensation": {"service_name": "r"}},
                        "next": ["undo"],
                    },
                    {"id": "undo", "type": "compensate", "next": ["done"]},
                    {"id": "done", "type": "end"},
                ],
            }
        ),
        "json",
    )
    picture = graph_picture(graph)
    events = [
        ("WORKFLOW_STARTED", "", {}),
        ("TASK_COMPLETED", "charge", {}),
        ("COMPENSATION_STARTED", "undo", {}),
        ("STEP_COMPENSATED", "charge", {}),
        ("COMPENSATION_COMPLETED", "undo", {}),
    ]
    # The undo's own token rested at the step it undid, arriving from nowhere.
    tokens = [("charge", "done", ""), ("undo", "done", "charge"), ("charge", "done", "")]
    path = path_taken(picture, events=events, tokens=tokens)
    assert path.waiting == [] and path.failed == []
    assert flow_ends(picture, path.flows) == {
        ("start", "charge"),
        ("charge", "undo"),
        ("undo", "done"),
    }
