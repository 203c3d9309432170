"""Compensation on real workers: the saga undoes 3, 2, 1 with a flaky undo retried; a
worker SIGKILLed during a compensation loses nothing and doubles nothing."""

import pytest

from processes.models import Job
from processes.services import instance_start
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def undo(service: str, **config) -> dict:
    name, _, method = service.partition(".")
    return {"service_name": name, "method": method, **config}


def compensated(instance) -> list[str]:
    events = fresh(instance).events.filter(type="STEP_COMPENSATED").order_by("id")
    return [event.step_id for event in events]


def test_saga_on_workers__the_fourth_fails_and_three_two_one_are_undone(worker):
    flaky = undo(
        "test.flaky",
        input={"succeed_on": 2},
        retry_policy={"max_attempts": 2, "interval": "1s", "errors": ["FlakyError"]},
    )
    publish(
        "worker-saga",
        [
            service_step("one", "test.mark", compensation=undo("test.mark"), next=["two"]),
            service_step("two", "test.mark", compensation=flaky, next=["three"]),
            service_step("three", "test.mark", compensation=undo("test.mark"), next=["four"]),
            service_step(
                "four",
                "test.raise",
                input={"error": "Declined"},
                catch=[{"errors": ["Declined"], "next": "undo"}],
            ),
            {"id": "undo", "type": "compensate", "next": ["failed"]},
            {"id": "failed", "type": "fail", "config": {"error": "OrderFailed"}},
        ],
    )
    instance = instance_start(definition_key="worker-saga")
    wait_for(lambda: fresh(instance).status == "failed", timeout=40, what="the saga")

    instance = fresh(instance)
    assert instance.error["error"] == "OrderFailed"
    assert compensated(instance) == ["three", "two", "one"]
    [retried] = instance.events.filter(type="TASK_RETRIED")
    assert (retried.step_id, retried.payload["error"]) == ("two", "FlakyError")
    assert instance.events.filter(type="COMPENSATION_COMPLETED").count() == 1


def test_worker_killed_mid_compensation__it_is_run_again_and_recorded_once(workers):
    publish(
        "slow-undo",
        [
            service_step(
                "charge",
                "test.mark",
                timeout="4s",
                compensation=undo("test.slow", input={"seconds": 3}),
                next=["undo"],
            ),
            {"id": "undo", "type": "compensate", "next": ["after"]},
            service_step("after", "test.mark"),
        ],
    )
    workers.start("victim")
    instance = instance_start(definition_key="slow-undo")
    running = Job.objects.filter(compensates__isnull=False, status=JobStatus.RUNNING)
    wait_for(running.exists, what="the victim to start the compensation")
    workers.kill("victim")

    workers.start("rescuer", beat=True)
    wait_for(lambda: fresh(instance).status == "completed", timeout=60, what="the rescue")

    instance = fresh(instance)
    assert compensated(instance) == ["charge"]
    assert instance.variables["charge_done"] is True and instance.variables["ran_after"]
    assert instance.events.filter(type="TASK_COMPLETED", step_id="charge").count() == 1
    [lost] = instance.events.filter(type="TASK_RETRIED", step_id="charge")
    assert lost.payload["error"] == "WorkerLost"
    assert Job.objects.filter(compensates__isnull=False).count() == 1
    assert instance.events.filter(type="WORKFLOW_COMPLETED").count() == 1
