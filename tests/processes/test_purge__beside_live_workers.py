"""The acceptance run: 20,000 finished instances past their retention are purged while real
workers run other instances, which all complete (none failed, none touched). How much the
purge slowed them is measured by bench/purge.py, not asserted here."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from bench.purge import seed_finished
from processes.models import Event, Job, ProcessInstance
from processes.services import definition_publish, instance_start, instances_purge_expired
from processes.statuses import InstanceStatus
from tests.support.definitions import publish, service_step
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

SEEDED = 20_000


@pytest.fixture
def archive() -> None:
    """20,000 completed instances of a definition kept 30 days, ended 40 days ago."""
    document = {
        "name": "archive",
        "retention": "30d",
        "steps": [
            {
                "id": "charge",
                "type": "service_task",
                "config": {"service_name": "test", "method": "noop"},
            }
        ],
    }
    version = definition_publish(source=json.dumps(document), format="json")
    seed_finished(
        definition_id=version.definition_id,
        version_id=version.pk,
        group_id=Group.objects.create(name="clerks").pk,
        count=SEEDED,
        ended=timezone.now() - timedelta(days=40),
    )
    assert ProcessInstance.objects.filter(definition_version=version).count() == SEEDED


def test_purge__20000_finished_instances_while_workers_run_others(workers, archive):
    publish(
        "live",
        [
            service_step("a", "test.noop", next=["b"]),
            service_step("b", "test.noop", next=["c"]),
            service_step("c", "test.noop"),
        ],
    )
    workers.start("purge-live", concurrency=2)
    first = instance_start(definition_key="live")
    wait_for(
        lambda: Job.objects.filter(instance=first, status="succeeded").exists(), what="a worker"
    )
    live = [first]
    purged = threading.Event()
    outcome = []

    def purge() -> None:
        try:
            outcome.append(instances_purge_expired(batch_size=1000))
        finally:
            purged.set()
            connection.close()

    thread = threading.Thread(target=purge)
    thread.start()
    # Live traffic for as long as the purge runs: a start every 50 ms, at least ten.
    while not purged.wait(0.05) or len(live) < 10:
        live.append(instance_start(definition_key="live"))
    thread.join()

    [report] = outcome
    assert (report.instances, report.batches) == (SEEDED, SEEDED // 1000)
    assert not ProcessInstance.objects.filter(definition__key="archive").exists()
    assert not Event.objects.exclude(instance_id__in=[i.pk for i in live]).exists()
    ids = [i.pk for i in live]
    wait_for(
        lambda: ProcessInstance.objects.filter(pk__in=ids, status="completed").count() == len(ids),
        timeout=120,
        what=f"the {len(ids)} live instances to complete",
    )
    assert not ProcessInstance.objects.filter(status=InstanceStatus.FAILED).exists()
    assert Job.objects.filter(instance_id__in=ids, status="succeeded").count() == 3 * len(ids)
    assert Event.objects.filter(instance_id__in=ids, type="WORKFLOW_COMPLETED").count() == len(ids)
