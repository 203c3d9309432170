"""Compensation as written: a service step's `compensation` (JSON `config.compensation`,
YAML `compensation:`), the `compensate` step in both formats, their problems with JSON
pointers, the graph kept through storage, and the BPMN throw event. Pure: no database."""

import json

import pytest

from processes.bpmn.export import graph_bpmn
from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import Compensation, Graph, RetryRule

KNOWN = {"Payments.charge", "Payments.refund", "charge", "refund"}


def json_saga(compensation) -> str:
    return json.dumps(
        {
            "name": "saga",
            "steps": [
                {
                    "id": "charge",
                    "type": "service_task",
                    "config": {
                        "service_name": "Payments",
                        "method": "charge",
                        "compensation": compensation,
                    },
                    "next": ["undo"],
                },
                {"id": "undo", "type": "compensate", "next": ["done"]},
                {"id": "done", "type": "end"},
            ],
        }
    )


def problems(source: str, format: str = "json") -> dict[str, str]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, format, service_exists=KNOWN.__contains__)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_json_compensation__read_with_its_input_and_retry_policy():
    graph = compile_definition(
        json_saga(
            {
                "service_name": "Payments",
                "method": "refund",
                "input": {"payment_id": "${payment_id}"},
                "retry_policy": {"max_attempts": 5, "interval": "2s", "backoff": "exponential"},
            }
        ),
        "json",
        service_exists=KNOWN.__contains__,
    )
    assert graph.node("charge").compensation == Compensation(
        service="Payments.refund",
        input={"payment_id": "${payment_id}"},
        retry=(
            RetryRule(
                error_equals=("States.ALL",), interval_seconds=2.0, max_attempts=5, backoff_rate=2.0
            ),
        ),
    )
    assert graph.node("undo").type == "compensate" and graph.node("undo").next == ("done",)
    assert Graph.from_dict(json.loads(json.dumps(graph.to_dict()))) == graph


def test_json_compensation__unknown_service_and_bad_fields_are_named_by_pointer():
    found = problems(
        json_saga({"service_name": "Payments", "method": "void", "input": [1], "retry_policy": 3})
    )
    assert found["/steps/0/config/compensation/service_name"] == (
        "unknown compensation service 'Payments.void'"
    )
    assert "/steps/0/config/compensation/input" in found
    assert "/steps/0/config/compensation/retry_policy" in found
    assert "must be an object" in problems(json_saga("refund"))["/steps/0/config/compensation"]
    assert "/steps/0/config/compensation/service_name" in problems(json_saga({"input": {}}))


YAML = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: saga}
spec:
  startAt: charge
  states:
    - name: charge
      type: task
      resource: charge
      compensation:
        resource: %s
        input: {payment_id: "${payment_id}"}
        retry:
          - {errorEquals: [Busy], intervalSeconds: 1, maxAttempts: 4}
      next: undo
    - name: undo
      type: compensate
      end: true
"""


def test_yaml_compensation__read_and_its_unknown_resource_named():
    graph = compile_definition(YAML % "refund", "yaml", service_exists=KNOWN.__contains__)
    compensation = graph.node("charge").compensation
    assert compensation.service == "refund" and compensation.input == {
        "payment_id": "${payment_id}"
    }
    assert (
        compensation.retry[0].error_equals == ("Busy",) and compensation.retry[0].max_attempts == 4
    )
    assert graph.node("undo").type == "compensate"
    found = problems(YAML % "void", "yaml")
    assert found["/spec/states/0/compensation/resource"] == "unknown compensation service 'void'"


def test_a_step_without_compensation_has_none():
    graph = compile_definition(json_saga(None), "json")
    assert graph.node("charge").compensation is None


def test_bpmn__the_compensate_step_is_an_intermediate_throw_event():
    graph = compile_definition(json_saga({"service_name": "refund"}), "json")
    xml = graph_bpmn(graph)
    assert "intermediateThrowEvent" in xml and "compensateEventDefinition" in xml
