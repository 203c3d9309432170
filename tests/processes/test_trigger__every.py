"""`every` start triggers: first due one interval after publishing, then on their cadence,
skipping the slots missed while nothing ran; with a real worker and beat, an `every: 1s`
trigger starts instances that run to their end."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import Event, ProcessInstance, Trigger
from processes.services import definition_publish, jobs_sweep
from tests.support.definitions import publish, service_step
from tests.support.workers import wait_for


def publish_tick(every: str, *, key: str = "tick"):
    return publish(key, [service_step("work", "test.mark")], triggers=[{"every": every}])


@pytest.mark.django_db
def test_publish__first_due_one_interval_from_now():
    before = timezone.now()
    publish_tick("PT1H")
    trigger = Trigger.objects.get()
    assert (trigger.kind, trigger.spec) == ("every", "PT1H")
    assert before + timedelta(hours=1) <= trigger.next_due_at <= timezone.now() + timedelta(hours=1)


@pytest.mark.django_db
def test_due__starts_one_and_keeps_the_cadence_past_missed_slots():
    publish_tick("1h")
    slot = timezone.now() - timedelta(hours=2, minutes=30)
    Trigger.objects.update(next_due_at=slot)
    assert jobs_sweep().started == 1
    assert jobs_sweep().started == 0
    # 2h30 late: one start, then the series slot + 3h, half an hour from now.
    assert Trigger.objects.get().next_due_at == slot + timedelta(hours=3)
    started = Event.objects.get(type="WORKFLOW_STARTED")
    assert (started.actor, started.payload["trigger"]) == (None, "every 1h")


@pytest.mark.django_db
def test_two_definitions__each_starts_its_own():
    publish_tick("1h", key="tick")
    publish_tick("5m", key="tock")
    Trigger.objects.update(next_due_at=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep().started == 2
    keys = sorted(ProcessInstance.objects.values_list("definition__key", flat=True))
    assert keys == ["tick", "tock"]


@pytest.mark.worker
def test_worker__an_every_second_trigger_starts_instances_with_the_beat(worker):
    definition_publish(
        source=json.dumps(
            {
                "name": "heartbeat",
                "triggers": [{"every": "1s"}],
                "steps": [service_step("work", "test.mark")],
            }
        ),
        format="json",
    )

    def completed() -> int:
        return ProcessInstance.objects.filter(status="completed").count()

    wait_for(lambda: completed() >= 2, timeout=60, what="two started instances to complete")
    instances = ProcessInstance.objects.filter(status="completed")
    assert all(instance.variables == {"ran_work": True} for instance in instances)
    payloads = Event.objects.filter(type="WORKFLOW_STARTED").values_list("payload", flat=True)
    assert {payload["trigger"] for payload in payloads} == {"every 1s"}
    assert Trigger.objects.get().started >= 2
