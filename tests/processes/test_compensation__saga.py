"""Compensation: a `compensate` step undoes the completed steps, latest first, each once,
as jobs with their own retry rules; a failed compensation fails the instance and a retry
runs it again. Jobs are run in this process (see test_compensation__worker.py for workers).
"""

import pytest

from processes.models import Job
from processes.services import (
    definition_publish,
    instance_retry,
    instance_start,
    instance_variables_update,
)
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db


def undo(service: str, **config) -> dict:
    name, _, method = service.partition(".")
    return {"service_name": name, "method": method, **config}


def saga_steps(*, charge_undo: dict) -> list[dict]:
    """Three steps with an undo each; the fourth fails, is caught, and compensates."""
    return [
        service_step(
            "reserve",
            "test.mark",
            compensation=undo("test.echo", input={"undone": "reserve"}),
            next=["charge"],
        ),
        service_step("charge", "test.mark", compensation=charge_undo, next=["ship"]),
        service_step(
            "ship",
            "test.mark",
            compensation=undo("test.echo", input={"undone": "ship"}),
            next=["deliver"],
        ),
        service_step(
            "deliver",
            "test.raise",
            input={"error": "DeliveryFailed"},
            catch=[{"errors": ["DeliveryFailed"], "next": "undo"}],
        ),
        {"id": "undo", "type": "compensate", "next": ["failed"]},
        {"id": "failed", "type": "fail", "config": {"error": "OrderFailed"}},
    ]


def compensated(instance) -> list[str]:
    events = fresh(instance).events.filter(type="STEP_COMPENSATED").order_by("id")
    return [event.step_id for event in events]


def test_compensate__undoes_three_steps_latest_first_retrying_a_flaky_undo():
    flaky = undo(
        "test.flaky",
        input={"succeed_on": 2},
        retry_policy={"max_attempts": 3, "interval": 0, "errors": ["FlakyError"]},
    )
    publish("saga", saga_steps(charge_undo=flaky))
    instance = instance_start(definition_key="saga")
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == "failed" and instance.error["error"] == "OrderFailed"
    assert compensated(instance) == ["ship", "charge", "reserve"]
    [retried] = instance.events.filter(type="TASK_RETRIED")
    assert retried.step_id == "charge" and retried.payload["error"] == "FlakyError"
    assert retried.payload["compensates"]
    types = event_types(instance)
    started, completed = types.index("COMPENSATION_STARTED"), types.index("COMPENSATION_COMPLETED")
    assert types.index("TASK_FAILED") < started < completed < types.index("WORKFLOW_FAILED")
    [start] = instance.events.filter(type="COMPENSATION_STARTED")
    assert start.step_id == "undo" and start.payload["steps"] == ["ship", "charge", "reserve"]
    # Each undo undid one completion, named by its event; the step itself ran once.
    completions = {e.step_id: e.pk for e in instance.events.filter(type="TASK_COMPLETED")}
    for event in instance.events.filter(type="STEP_COMPENSATED"):
        assert event.payload["compensates"] == completions[event.step_id]
    assert instance.variables["flaky_attempts"] == 2
    assert Job.objects.filter(compensates__isnull=False).count() == 3


def test_compensate__a_step_run_twice_in_a_loop_is_undone_twice_latest_first():
    publish(
        "loop-saga",
        [
            service_step(
                "book",
                "test.echo",
                input={"round": "${round}"},
                compensation=undo("test.echo", input={"cancelled": "${round}"}),
                next=["again"],
            ),
            {
                "id": "again",
                "type": "exclusive_gateway",
                "config": {
                    "conditions": [{"expression": "round < 2", "next": "bump"}],
                    "default": "undo",
                },
            },
            service_step("bump", "test.echo", input={"round": 2}, next=["book"]),
            {"id": "undo", "type": "compensate", "next": ["done"]},
            {"id": "done", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="loop-saga", variables={"round": 1})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == "completed"
    assert compensated(instance) == ["book", "book"]
    inputs = [job.input for job in Job.objects.filter(compensates__isnull=False).order_by("id")]
    # Rendered when each undo is scheduled: both see the variables as they are then.
    assert inputs == [{"cancelled": 2}, {"cancelled": 2}]
    books = list(instance.events.filter(type="TASK_COMPLETED", step_id="book").order_by("-id"))
    undone = [e.payload["compensates"] for e in instance.events.filter(type="STEP_COMPENSATED")]
    assert undone == [books[0].pk, books[1].pk]


def test_compensate__a_second_compensate_step_undoes_only_what_is_new():
    publish(
        "twice",
        [
            service_step("a", "test.mark", compensation=undo("test.noop"), next=["first"]),
            {"id": "first", "type": "compensate", "next": ["b"]},
            service_step("b", "test.mark", compensation=undo("test.noop"), next=["second"]),
            {"id": "second", "type": "compensate", "next": ["done"]},
            {"id": "done", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="twice")
    run_due_jobs()
    assert fresh(instance).status == "completed"
    assert compensated(instance) == ["a", "b"]


def test_compensate__with_nothing_to_undo_moves_straight_on():
    publish(
        "nothing",
        [
            service_step("a", "test.mark", next=["undo"]),
            {"id": "undo", "type": "compensate", "next": ["done"]},
            {"id": "done", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="nothing")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert event_types(instance, "undo") == ["COMPENSATION_STARTED", "COMPENSATION_COMPLETED"]


def test_compensation_failing_for_good__fails_the_instance_and_a_retry_runs_it_again():
    publish(
        "stuck",
        saga_steps(charge_undo=undo("test.flaky", input={"succeed_on": 2})),
    )
    instance = instance_start(definition_key="stuck")
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "CompensationFailed"
    assert instance.error["step_id"] == "charge"
    assert "charge" in instance.error["message"] and "FlakyError" in instance.error["message"]
    assert compensated(instance) == ["ship"]

    instance_retry(instance=instance)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed" and instance.error["error"] == "OrderFailed"
    assert compensated(instance) == ["ship", "charge", "reserve"]
    # The retry ran the undo again (its second attempt), not the charge itself.
    assert instance.events.filter(type="TASK_COMPLETED", step_id="charge").count() == 1
    charge_undo = Job.objects.get(step_id="charge", compensates__isnull=False)
    assert charge_undo.attempt == 2 and charge_undo.status == JobStatus.SUCCEEDED


def test_compensation_input_that_cannot_be_rendered__fails_and_is_retried_as_an_undo():
    publish(
        "bad-input",
        [
            service_step(
                "a",
                "test.mark",
                compensation=undo("test.echo", input={"id": "${missing}"}),
                next=["undo"],
            ),
            {"id": "undo", "type": "compensate", "next": ["done"]},
            {"id": "done", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="bad-input")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "CompensationFailed" and instance.error["step_id"] == "a"

    instance_variables_update(instance=instance, changes={"missing": "x"})
    instance_retry(instance=fresh(instance))
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert compensated(instance) == ["a"]
    assert instance.events.filter(type="TASK_COMPLETED", step_id="a").count() == 1


YAML_SAGA = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: yaml-saga}
spec:
  startAt: reserve
  states:
    - name: reserve
      type: task
      resource: test.mark
      compensation: {resource: test.echo, input: {undone: reserve}}
      next: charge
    - name: charge
      type: task
      resource: test.mark
      compensation:
        resource: "arn:aws:lambda:eu-west-1:1:function:test.flaky"
        input: {succeed_on: 2}
        retry:
          - {errorEquals: [FlakyError], intervalSeconds: 0, maxAttempts: 2}
      next: ship
    - name: ship
      type: task
      resource: test.raise
      input: {error: ShipFailed}
      catch:
        - {errorEquals: [ShipFailed], next: undo}
      end: true
    - name: undo
      type: compensate
      next: cancelled
    - name: cancelled
      type: succeed
"""


def test_compensate__yaml_undoes_in_reverse_with_its_retry_rules():
    definition_publish(source=YAML_SAGA, format="yaml")
    instance = instance_start(definition_key="yaml-saga")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert compensated(instance) == ["charge", "reserve"]
    assert instance.events.filter(type="TASK_RETRIED", step_id="charge").count() == 1
    assert instance.variables["undone"] == "reserve"
