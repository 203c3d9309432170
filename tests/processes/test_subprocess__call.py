"""A subprocess step starts a child instance, waits for it and merges its `output`; the
child's failure fails the step (catchable, retryable); a self-calling definition stops at
the depth cap."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from processes.models import ProcessInstance, Timer
from processes.services import instance_retry, instance_start
from processes.services.timers import timers_fire_due
from processes.statuses import InstanceStatus, TimerStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

# The child's end reaches the parent after the child's commit (on_commit).
pytestmark = pytest.mark.django_db(transaction=True)


def call(step_id: str, definition: str, *, next: list[str] | None = None, **config) -> dict:
    return {
        "id": step_id,
        "type": "subprocess",
        "config": {"definition": definition, **config},
        "next": next or [],
    }


def end(step_id: str, **config) -> dict:
    return {"id": step_id, "type": "end", **({"config": config} if config else {})}


def children(instance) -> list[ProcessInstance]:
    return list(ProcessInstance.objects.filter(parent=instance).order_by("created_at"))


@pytest.fixture
def credit_check():
    """The child: scores the customer on a worker, then ends."""
    publish(
        "credit-check",
        [service_step("score", "test.echo", input={"score": "${customer * 10}"})],
        variables={"customer": {"type": "integer", "required": True}},
    )


def test_subprocess__child_completes_and_its_output_is_merged(credit_check):
    publish(
        "loan",
        [
            call(
                "check",
                "credit-check",
                version="latest",
                input={"customer": "${customer_id}"},
                output={"credit_score": "${score}"},
                next=["done"],
            ),
            end("done"),
        ],
    )
    parent = instance_start(definition_key="loan", variables={"customer_id": 7})
    [child] = children(parent)
    assert (child.parent_id, child.parent_step, child.depth) == (parent.pk, "check", 1)
    assert child.variables == {"customer": 7}
    assert fresh(parent).status == InstanceStatus.RUNNING

    run_due_jobs()

    parent = fresh(parent)
    assert fresh(child).status == InstanceStatus.COMPLETED
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables == {"customer_id": 7, "credit_score": 70}
    assert event_types(parent, "check") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_subprocess__a_child_that_ends_at_once_completes_the_step_in_the_same_start():
    publish("nothing", [end("done")], variables={"x": "integer"})
    publish(
        "caller",
        [
            {"id": "fork", "type": "parallel_gateway", "next": ["call", "side"]},
            call("call", "nothing", input={"x": 1}, output={"seen": "${x}"}, next=["join"]),
            {
                "id": "side",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "${true}", "next": "join"}]},
            },
            {"id": "join", "type": "parallel_gateway", "next": ["done"]},
            end("done"),
        ],
    )
    parent = instance_start(definition_key="caller")
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables == {"seen": 1}
    assert children(parent)[0].status == InstanceStatus.COMPLETED


@pytest.mark.parametrize(
    ("child_end", "error"),
    [
        ({"id": "no", "type": "fail", "config": {"error": "CreditDenied"}}, "CreditDenied"),
        (end("no", error="CreditDenied", cause="too many debts"), "CreditDenied"),
        (service_step("no", "test.raise", input={"error": "Boom"}), "SubprocessFailed"),
    ],
)
def test_subprocess__the_childs_failure_is_caught_by_its_error_name(child_end, error):
    publish("credit-check", [child_end])
    publish(
        "loan",
        [
            call(
                "check",
                "credit-check",
                catch=[{"error_equals": [error], "next": "refused"}],
                next=["done"],
            ),
            end("done"),
            service_step("refused", "test.noop"),
        ],
    )
    parent = instance_start(definition_key="loan")
    run_due_jobs()
    parent = fresh(parent)
    assert fresh(children(parent)[0]).status == InstanceStatus.FAILED
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables["last_error"]["error"] == error
    assert event_types(parent, "refused") == ["TASK_SCHEDULED", "TASK_COMPLETED"]
    assert event_types(parent, "done") == []


def test_subprocess__an_uncaught_child_failure_fails_the_parent_at_the_step():
    publish("credit-check", [service_step("score", "test.raise", input={"error": "Boom"})])
    publish("loan", [call("check", "credit-check", next=["done"]), end("done")])
    parent = instance_start(definition_key="loan")
    run_due_jobs()
    parent = fresh(parent)
    assert parent.status == InstanceStatus.FAILED
    assert parent.error["step_id"] == "check"
    assert parent.error["error"] == "SubprocessFailed"
    assert "Boom" in parent.error["message"]


def test_subprocess__retry_policy_starts_a_new_child_up_to_max_attempts():
    publish("credit-check", [service_step("score", "test.raise", input={"error": "Boom"})])
    publish(
        "loan",
        [
            call(
                "check",
                "credit-check",
                retry_policy={"max_attempts": 2, "interval": 0},
                next=["done"],
            ),
            end("done"),
        ],
    )
    parent = instance_start(definition_key="loan")
    run_due_jobs()  # the first child fails: a retry timer is set for a new one
    [first] = children(parent)
    assert fresh(first).status == InstanceStatus.FAILED
    assert fresh(parent).status == InstanceStatus.RUNNING
    assert Timer.objects.get(instance=parent).status == TimerStatus.SCHEDULED
    timers_fire_due()
    assert len(children(parent)) == 2
    run_due_jobs()  # the second child fails too: that was the last attempt
    parent = fresh(parent)
    assert parent.status == InstanceStatus.FAILED
    assert parent.error["error"] == "SubprocessFailed"
    assert len(children(parent)) == 2
    assert event_types(parent, "check").count("TASK_SCHEDULED") == 2
    assert event_types(parent, "check").count("TASK_RETRIED") == 1


def test_subprocess__operator_retry_of_the_parent_starts_a_new_child(credit_check):
    publish("loan", [call("check", "credit-check", input={"customer": "${c}"})])
    parent = instance_start(definition_key="loan", variables={"c": "not a number"})
    parent = fresh(parent)
    assert parent.status == InstanceStatus.FAILED
    assert parent.error["error"] == "SubprocessInputInvalid"
    assert "customer" in parent.error["message"]
    assert children(parent) == []

    ProcessInstance.objects.filter(pk=parent.pk).update(variables={"c": 3})
    instance_retry(instance=fresh(parent))
    [child] = children(parent)
    run_due_jobs()
    assert fresh(child).status == InstanceStatus.COMPLETED
    assert fresh(parent).status == InstanceStatus.COMPLETED


def test_subprocess__unknown_definition_or_version_fails_the_step_clearly():
    publish("credit-check", [end("done")])
    publish("loan", [call("a", "credit-check", version=2)])
    parent = fresh(instance_start(definition_key="loan"))
    assert parent.error["error"] == "SubprocessNotFound"
    assert "version 2 of process definition 'credit-check'" in parent.error["message"]
    publish("loan2", [call("a", "nowhere")])
    parent = fresh(instance_start(definition_key="loan2"))
    assert parent.error["error"] == "SubprocessNotFound"


def test_subprocess__a_numbered_version_is_the_one_started():
    publish("credit-check", [end("done")], variables={"v": {"type": "integer", "default": 1}})
    publish("credit-check", [end("fin")], variables={"v": {"type": "integer", "default": 2}})
    publish("loan", [call("a", "credit-check", version=1, output={"v": "${v}"})])
    assert fresh(instance_start(definition_key="loan")).variables == {"v": 1}
    publish("loan2", [call("a", "credit-check", version="latest", output={"v": "${v}"})])
    assert fresh(instance_start(definition_key="loan2")).variables == {"v": 2}


def test_subprocess__a_self_calling_definition_stops_at_the_depth_cap():
    publish(
        "recurse",
        [call("again", "recurse", input={"level": "${level + 1}"})],
        variables={"level": {"type": "integer", "default": 0}},
    )
    engine = {**settings.FLOWDESK_ENGINE, "MAX_SUBPROCESS_DEPTH": 4}
    with override_settings(FLOWDESK_ENGINE=engine):
        top = fresh(instance_start(definition_key="recurse"))
    chain = [top]
    while kids := children(chain[-1]):
        chain.extend(kids)
    assert [i.depth for i in chain] == [0, 1, 2, 3, 4]
    assert all(i.status == InstanceStatus.FAILED for i in chain)
    assert chain[-1].error["error"] == "SubprocessDepthExceeded"
    assert "at most 4 deep" in chain[-1].error["message"]
    # Each caller's subprocess step passes the error up: the top names the cause too.
    assert top.error["error"] == "SubprocessDepthExceeded"
