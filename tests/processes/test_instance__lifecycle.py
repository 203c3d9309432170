"""Instance lifecycle through the services: start, history, suspend, resume, terminate, retry."""

import pytest

from processes.errors import Conflict, InvalidInput, NotFound
from processes.models import Job, ProcessInstance
from processes.services import (
    instance_resume,
    instance_retry,
    instance_start,
    instance_start_or_get,
    instance_suspend,
    instance_terminate,
)
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_steps():
    return publish(
        "two-steps",
        [
            service_step("a", "test.echo", next=["b"], input={"greeting": "Hi ${name}"}),
            service_step("b", "test.noop"),
        ],
        variables={"name": "string", "amount": "number"},
    )


def test_start__runs_to_completion_with_history_in_order(two_steps):
    instance = instance_start(definition_key="two-steps", variables={"name": "Ada"})
    assert instance.status == "running"
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"name": "Ada", "greeting": "Hi Ada"}
    assert event_types(instance) == [
        "WORKFLOW_STARTED",
        "TASK_SCHEDULED",
        "TASK_COMPLETED",
        "TASK_SCHEDULED",
        "TASK_COMPLETED",
        "WORKFLOW_COMPLETED",
    ]


def test_start__caller_chosen_id_is_idempotent(two_steps):
    first, created = instance_start_or_get(definition_key="two-steps", instance_id="order-1.A_b")
    again, created_again = instance_start_or_get(
        definition_key="two-steps", instance_id="order-1.A_b"
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk == "order-1.A_b"
    assert ProcessInstance.objects.count() == 1


def test_start__same_id_for_another_definition_is_a_conflict(two_steps):
    publish("other", [service_step("x", "test.noop")])
    instance_start(definition_key="two-steps", instance_id="shared")
    with pytest.raises(Conflict):
        instance_start(definition_key="other", instance_id="shared")


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 65, "slash/no"])
def test_start__malformed_id_is_refused(two_steps, bad_id):
    with pytest.raises(InvalidInput):
        instance_start(definition_key="two-steps", instance_id=bad_id)


def test_start__wrong_variable_type_names_it_and_writes_nothing(two_steps):
    with pytest.raises(InvalidInput) as caught:
        instance_start(definition_key="two-steps", variables={"name": 3, "amount": "lots"})
    assert set(caught.value.field_errors) == {"name", "amount"}
    assert not ProcessInstance.objects.exists()


def test_start__unknown_definition_is_not_found():
    with pytest.raises(NotFound):
        instance_start(definition_key="nope")


def test_suspend__no_job_starts_until_resumed(two_steps):
    instance = instance_start(definition_key="two-steps", variables={"name": "Ada"})
    instance_suspend(instance=instance)
    assert run_due_jobs() >= 1
    assert Job.objects.get(step_id="a").status == JobStatus.SCHEDULED
    instance_resume(instance=instance)
    run_due_jobs()
    assert fresh(instance).status == "completed"
    assert event_types(instance)[:3] == ["WORKFLOW_STARTED", "TASK_SCHEDULED", "WORKFLOW_SUSPENDED"]


def test_suspend__a_result_arriving_meanwhile_is_applied_on_resume(two_steps):
    instance = instance_start(definition_key="two-steps", variables={"name": "Ada"})
    lease = job_lease(job_id=Job.objects.get(step_id="a").pk)
    instance_suspend(instance=instance)
    job_report_success(lease=lease, result={"done": 1})
    assert fresh(instance).variables.get("done") is None
    assert not Job.objects.filter(step_id="b").exists()
    instance_resume(instance=instance)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["done"] == 1


def test_terminate__cancels_jobs_and_keeps_history(two_steps):
    instance = instance_start(definition_key="two-steps", variables={"name": "Ada"})
    instance_terminate(instance=instance)
    instance = fresh(instance)
    assert instance.status == "cancelled"
    assert Job.objects.get(step_id="a").status == JobStatus.CANCELLED
    assert run_due_jobs() == 0
    assert event_types(instance)[-2:] == ["WORKFLOW_CANCELLED", "TASK_CANCELLED"]


def test_control__refused_in_the_wrong_state(two_steps):
    instance = instance_start(definition_key="two-steps", variables={"name": "Ada"})
    run_due_jobs()
    for control in (instance_suspend, instance_resume, instance_retry, instance_terminate):
        with pytest.raises(Conflict, match="completed"):
            control(instance=fresh(instance))


def test_failure__records_error_and_traceback_then_retry_runs_the_step_again():
    publish(
        "fragile",
        [
            service_step("call", "test.flaky", input={"succeed_on": 2}, next=["after"]),
            service_step("after", "test.noop"),
        ],
    )
    instance = instance_start(definition_key="fragile")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "FlakyError"
    assert instance.error["step_id"] == "call"
    assert "Traceback" in instance.error["traceback"]
    assert event_types(instance)[-2:] == ["TASK_FAILED", "WORKFLOW_FAILED"]

    instance_retry(instance=instance)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["flaky_attempts"] == 2
    assert "WORKFLOW_RETRIED" in event_types(instance)


@pytest.mark.django_db
def test_failing_sets_ended_at_and_a_retry_clears_it():
    from processes.services import instance_retry
    from tests.support.definitions import publish, service_step
    from tests.support.engine import fresh, run_due_jobs

    publish("fragile-end", [service_step("charge", "test.flaky", input={"succeed_on": 2})])
    instance = instance_start(definition_key="fragile-end")
    run_due_jobs()
    failed = fresh(instance)
    assert (failed.status, failed.ended_at is not None) == ("failed", True)
    retried = instance_retry(instance=failed)
    assert retried.ended_at is None
    run_due_jobs()
    assert fresh(instance).status == "completed" and fresh(instance).ended_at is not None
