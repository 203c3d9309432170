"""A worker SIGKILLed mid-step: after a restart the instance completes, the step recorded once."""

import pytest

from processes.models import Job
from processes.services import instance_start
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_worker_killed_mid_step__instance_completes_once(workers):
    publish(
        "slow-order",
        [
            service_step("slow", "test.slow", input={"seconds": 3}, timeout="4s", next=["after"]),
            service_step("after", "test.mark"),
        ],
    )
    workers.start("victim")
    instance = instance_start(definition_key="slow-order")
    wait_for(
        lambda: Job.objects.filter(step_id="slow", status=JobStatus.RUNNING).exists(),
        what="the victim to start the slow step",
    )
    workers.kill("victim")
    assert Job.objects.get(step_id="slow").status == JobStatus.RUNNING  # orphaned mid-step

    workers.start("rescuer", beat=True)
    wait_for(lambda: fresh(instance).status == "completed", timeout=60, what="the rescue")

    instance = fresh(instance)
    assert instance.variables["slow_done"] is True
    assert instance.variables["ran_after"] is True
    assert instance.events.filter(type="TASK_COMPLETED", step_id="slow").count() == 1
    assert instance.events.filter(type="TASK_COMPLETED", step_id="after").count() == 1
    [lost] = instance.events.filter(type="TASK_RETRIED", step_id="slow")
    assert lost.payload["error"] == "WorkerLost"
    assert instance.events.filter(type="WORKFLOW_COMPLETED").count() == 1
