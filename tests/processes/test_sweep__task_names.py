"""The beat sweep's Celery task is `flowdesk.sweep` (it fires timers as well as jobs); its old
name `flowdesk.sweep_jobs` still runs a sweep, so sweeps queued before an upgrade are not
dropped as unknown messages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from processes.models import Timer
from processes.services import instance_start
from processes.statuses import TimerStatus
from tests.support.definitions import publish
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


@pytest.mark.parametrize("task_name", ["flowdesk.sweep", "flowdesk.sweep_jobs"])
def test_sweep_task__either_name_fires_a_due_timer(workers, task_name):
    workers.start("sweep-names")  # no beat: only the message sent below sweeps
    publish("swept", [{"id": "pause", "type": "timer", "config": {"duration": "1h"}}])
    instance = instance_start(definition_key="swept")
    Timer.objects.filter(instance=instance).update(due_at=timezone.now() - timedelta(seconds=1))
    app.send_task(task_name)
    wait_for(lambda: fresh(instance).status == "completed", timeout=30, what=task_name)
    assert Timer.objects.get(instance=instance).status == TimerStatus.FIRED


def test_beat__schedules_the_sweep_by_its_new_name():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {"flowdesk.sweep", "flowdesk.purge_expired"}
