"""At-least-once delivery: a duplicate or late message for a job changes nothing."""

import pytest

from processes.models import Job
from processes.services import instance_retry, instance_start, job_run
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def definition():
    publish("once", [service_step("a", "test.mark", next=["b"]), service_step("b", "test.mark")])


def test_duplicate_message__for_a_finished_job_is_a_no_op():
    instance = instance_start(definition_key="once")
    first = Job.objects.get(step_id="a")
    run_due_jobs()
    before = event_types(instance)
    job_run(job_id=first.pk)
    job_run(job_id=first.pk)
    assert event_types(instance) == before
    assert fresh(instance).status == "completed"


def test_duplicate_message__for_a_leased_job_does_not_run_it_twice():
    instance = instance_start(definition_key="once")
    job = Job.objects.get(step_id="a")
    assert job_lease(job_id=job.pk) is not None
    assert job_lease(job_id=job.pk) is None  # the second delivery finds it taken
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert event_types(instance, "a") == ["TASK_SCHEDULED"]


def test_late_outcome__from_a_lease_taken_over_is_ignored():
    instance = instance_start(definition_key="once")
    job = Job.objects.get(step_id="a")
    stale = job_lease(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SCHEDULED)  # the sweeper took it back
    current = job_lease(job_id=job.pk)
    job_report_success(lease=current, result={"by": "current"})
    assert job_report_success(lease=stale, result={"by": "stale"}).accepted is False
    assert fresh(instance).variables["by"] == "current"
    assert event_types(instance, "a") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_gateway_failure__retry_evaluates_the_gateway_again():
    publish(
        "choose",
        [
            service_step("a", "test.echo", input={"go": "${go}"}, next=["gw"]),
            {
                "id": "gw",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "${flag}", "next": "b"}]},
            },
            service_step("b", "test.mark"),
        ],
    )
    instance = instance_start(definition_key="choose", variables={"go": 1, "flag": False})
    run_due_jobs()
    instance = fresh(instance)
    assert (instance.status, instance.error["error"]) == ("failed", "NoChoiceMatched")
    type(instance).objects.filter(pk=instance.pk).update(variables={"go": 1, "flag": True})
    instance_retry(instance=fresh(instance))
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["ran_b"] is True
