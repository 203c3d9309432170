"""Redis flushed while jobs are queued: the sweeper re-sends them; every instance completes."""

import pytest
import redis
from django.conf import settings

from processes.models import ProcessInstance
from processes.services import instance_start
from tests.support.definitions import publish, service_step
from tests.support.workers import broker_flush, wait_for

pytestmark = pytest.mark.worker

INSTANCES = 20


def test_broker_flushed__sweeper_recovers_every_queued_job(workers):
    publish("flushed", [service_step("a", "test.mark", next=["b"]), service_step("b", "test.mark")])
    for _ in range(INSTANCES):
        instance_start(definition_key="flushed")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert broker.llen("celery") == INSTANCES  # queued, nobody consuming yet
    broker_flush()
    assert broker.llen("celery") == 0

    workers.start("recovery", concurrency=2, beat=True)
    wait_for(
        lambda: ProcessInstance.objects.filter(status="completed").count() == INSTANCES,
        timeout=60,
        what="every instance to complete",
    )
    for instance in ProcessInstance.objects.all():
        assert instance.events.filter(type="TASK_COMPLETED").count() == 2
        assert instance.variables == {"ran_a": True, "ran_b": True}
