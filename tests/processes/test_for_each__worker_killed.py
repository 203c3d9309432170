"""A worker SIGKILLed while the items of a parallel for-each run: after another worker takes
over, the instance completes, each item's result collected once and in item order, and each
item recorded complete exactly once."""

import pytest

from processes.models import Event, Job
from processes.services import instance_start
from processes.statuses import InstanceStatus, JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

ITEMS = ["a", "b", "c", "d", "e", "f"]


def test_for_each__worker_killed_mid_loop_loses_nothing_and_doubles_nothing(workers):
    publish(
        "fe-killed",
        [
            service_step(
                "each",
                "test.slow_echo",
                input={"seconds": 3, "letter": "${item}", "at": "${loop.index}"},
                timeout="4s",
                for_each={"items": "${letters}", "collect": "letters_seen"},
                next=["after"],
            ),
            service_step("after", "test.mark"),
        ],
    )
    workers.start("victim", concurrency=2)
    instance = instance_start(definition_key="fe-killed", variables={"letters": ITEMS})
    running = Job.objects.filter(instance=instance, step_id="each", status=JobStatus.RUNNING)
    wait_for(lambda: running.count() == 2, what="the victim to run two items")
    workers.kill("victim")
    orphaned = set(running.values_list("token__loop_index", flat=True))
    assert len(orphaned) == 2  # killed mid-item

    workers.start("rescuer", concurrency=2, beat=True)
    wait_for(lambda: fresh(instance).status == InstanceStatus.COMPLETED, timeout=90, what="rescue")

    instance = fresh(instance)
    assert instance.variables["letters_seen"] == [
        {"letter": letter, "at": index} for index, letter in enumerate(ITEMS)
    ]
    assert instance.variables["ran_after"] is True
    completed = Event.objects.filter(instance=instance, step_id="each", type="TASK_COMPLETED")
    assert sorted(event.payload["loop_index"] for event in completed) == list(range(len(ITEMS)))
    lost = Event.objects.filter(instance=instance, step_id="each", type="TASK_RETRIED")
    assert [event.payload["error"] for event in lost] == ["WorkerLost"] * len(orphaned)
    assert Event.objects.filter(instance=instance, type="LOOP_COMPLETED").count() == 1
    assert Event.objects.filter(instance=instance, type="WORKFLOW_COMPLETED").count() == 1
    assert Job.objects.filter(instance=instance, step_id="after").count() == 1
