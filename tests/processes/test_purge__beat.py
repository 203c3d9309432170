"""Beat sends flowdesk.purge_expired every FLOWDESK_PURGE_INTERVAL seconds and a worker runs
it: an instance past its retention goes on its own, one within it stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import ProcessInstance
from processes.services import instance_start
from tests.processes.purge_world import age
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_beat__purges_an_instance_past_its_retention(workers, monkeypatch):
    monkeypatch.setenv("FLOWDESK_PURGE_INTERVAL", "1")
    publish("kept-a-day", [service_step("work", "test.noop")], retention="1d")
    workers.start("purge-beat", beat=True)
    old, young = (instance_start(definition_key="kept-a-day") for _ in range(2))
    for instance in (old, young):
        wait_for(lambda i=instance: fresh(i).status == "completed", what="the instances to end")
    age(old, timezone.now() - timedelta(days=2))

    wait_for(
        lambda: not ProcessInstance.objects.filter(pk=old.pk).exists(),
        timeout=30,
        what="beat's purge to take the old instance",
    )
    assert ProcessInstance.objects.filter(pk=young.pk).exists()
