"""A timer step on the real engine: the beat sweeper fires it and the instance completes."""

import json

import pytest

from processes.models import Timer
from processes.services import definition_publish, instance_start
from processes.statuses import TimerStatus
from tests.support.engine import event_types, fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_timer__a_one_second_wait_completes_with_the_beat_sweeper(worker):
    definition = {
        "name": "short-wait",
        "steps": [
            {"id": "pause", "type": "timer", "config": {"duration": "1s"}, "next": ["after"]},
            {"id": "after", "type": "service_task", "config": {"service_name": "test.mark"}},
        ],
    }
    definition_publish(source=json.dumps(definition), format="json")
    instance = instance_start(definition_key="short-wait")
    wait_for(lambda: fresh(instance).status == "completed", timeout=30, what="the timer")
    assert Timer.objects.get(instance=instance).status == TimerStatus.FIRED
    assert fresh(instance).variables == {"ran_after": True}
    assert event_types(instance, "pause") == ["TIMER_SCHEDULED", "TIMER_FIRED"]
