"""A subprocess step with `config.for_each` starts one child instance per item, its input
rendered with the item; `collect` lists the children's outputs in item order. A child's
failure is the step's: with a `catch`, the other children are cancelled and the catch runs."""

from __future__ import annotations

import pytest

from processes.models import Event, Job, ProcessInstance
from processes.services import instance_start, instance_terminate, job_run
from processes.statuses import InstanceStatus, JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

# A child's end reaches the parent after the child's commit (on_commit).
pytestmark = pytest.mark.django_db(transaction=True)


def each_child(*, next=("done",), **config) -> dict:
    return {
        "id": "each",
        "type": "subprocess",
        "config": {
            "definition": "score",
            "input": {"n": "${item}", "position": "${loop.index}", "fail_on": "${fail_on}"},
            "output": {"doubled": "${doubled}", "position": "${position}"},
            "for_each": {"items": "${numbers}", "collect": "scores"},
            **config,
        },
        "next": list(next),
    }


def run_child(child: ProcessInstance) -> None:
    """Run the child's jobs, and only its, until it has none due."""
    while True:
        due = Job.objects.filter(instance=child, status=JobStatus.SCHEDULED).order_by("id")
        if not due:
            return
        for job in due:
            job_run(job_id=job.pk)


def children(instance) -> list[ProcessInstance]:
    """The children in item order (the position each was given)."""
    kids = ProcessInstance.objects.filter(parent=instance)
    return sorted(kids, key=lambda child: child.variables["position"])


@pytest.fixture(autouse=True)
def score():
    """The child: doubles its number on a worker; fails (once) when `fail_on` names it."""
    publish(
        "score",
        [
            service_step(
                "double",
                "test.flaky",
                input={"succeed_on": "${2 if n == fail_on else 1}"},
                next=["echo"],
            ),
            service_step("echo", "test.echo", input={"doubled": "${n * 2}"}),
        ],
        variables={"n": "integer", "position": "integer", "fail_on": "integer"},
    )


def test_for_each_subprocess__one_child_per_item_outputs_collected_in_item_order():
    publish("fe-calls", [each_child(), {"id": "done", "type": "end"}])
    parent = instance_start(
        definition_key="fe-calls", variables={"numbers": [5, 6, 7], "fail_on": 0}
    )

    kids = children(parent)
    assert [child.variables for child in kids] == [
        {"n": 5, "position": 0, "fail_on": 0},
        {"n": 6, "position": 1, "fail_on": 0},
        {"n": 7, "position": 2, "fail_on": 0},
    ]
    assert {(child.parent_step, child.depth) for child in kids} == {("each", 1)}
    assert fresh(parent).status == InstanceStatus.RUNNING
    for child in reversed(kids):  # the last item's child finishes first
        run_child(child)
    run_due_jobs()

    parent = fresh(parent)
    assert [fresh(child).status for child in kids] == [InstanceStatus.COMPLETED] * 3
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables["scores"] == [
        {"doubled": 10, "position": 0},
        {"doubled": 12, "position": 1},
        {"doubled": 14, "position": 2},
    ]
    assert not {"doubled", "position", "item", "loop"} & set(parent.variables)
    completed = Event.objects.filter(instance=parent, step_id="each", type="TASK_COMPLETED")
    assert sorted(event.payload["loop_index"] for event in completed) == [0, 1, 2]
    assert event_types(parent, "each").count("LOOP_COMPLETED") == 1


def test_for_each_subprocess__an_empty_list_starts_no_child():
    publish("fe-calls-none", [each_child(), {"id": "done", "type": "end"}])
    parent = instance_start(definition_key="fe-calls-none", variables={"numbers": [], "fail_on": 0})
    parent = fresh(parent)
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables["scores"] == []
    assert not ProcessInstance.objects.filter(parent=parent).exists()


def test_for_each_subprocess__a_child_failure_with_catch_cancels_the_others_and_takes_it():
    catch = [{"error_equals": ["SubprocessFailed"], "next": "refused"}]
    publish(
        "fe-calls-caught",
        [
            each_child(catch=catch),
            {"id": "done", "type": "end"},
            service_step("refused", "test.mark"),
        ],
    )
    parent = instance_start(
        definition_key="fe-calls-caught", variables={"numbers": [5, 6, 7], "fail_on": 6}
    )
    first, failing, third = children(parent)
    run_child(first)
    run_child(failing)
    assert fresh(third).status == InstanceStatus.CANCELLED
    run_due_jobs()

    parent = fresh(parent)
    assert fresh(first).status == InstanceStatus.COMPLETED
    assert fresh(failing).status == InstanceStatus.FAILED
    assert fresh(third).status == InstanceStatus.CANCELLED
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.variables["last_error"]["error"] == "SubprocessFailed"
    assert parent.variables["ran_refused"] is True
    assert event_types(parent, "done") == []
    assert "WORKFLOW_COMPLETED" not in event_types(fresh(third))


def test_for_each_subprocess__an_uncaught_child_failure_fails_the_parent_at_the_step():
    publish(
        "fe-calls-failed",
        [
            each_child(),
            {"id": "done", "type": "end"},
        ],
    )
    parent = instance_start(
        definition_key="fe-calls-failed", variables={"numbers": [5, 6, 7], "fail_on": 6}
    )
    run_due_jobs()
    parent = fresh(parent)
    assert parent.status == InstanceStatus.FAILED
    assert (parent.error["error"], parent.error["step_id"]) == ("SubprocessFailed", "each")


def test_for_each_subprocess__terminating_the_parent_cancels_every_running_child():
    publish("fe-calls-stop", [each_child(), {"id": "done", "type": "end"}])
    parent = instance_start(
        definition_key="fe-calls-stop", variables={"numbers": [5, 6, 7], "fail_on": 0}
    )
    first, second, third = children(parent)
    run_child(first)

    instance_terminate(instance=fresh(parent))

    assert fresh(parent).status == InstanceStatus.CANCELLED
    assert [fresh(kid).status for kid in (first, second, third)] == [
        InstanceStatus.COMPLETED,
        InstanceStatus.CANCELLED,
        InstanceStatus.CANCELLED,
    ]
    assert not Job.objects.filter(instance__parent=parent, status=JobStatus.SCHEDULED).exists()
