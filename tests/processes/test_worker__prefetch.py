"""A worker holds only what it can run: when it dies, the rest of the queue is still in the
broker for the next worker, not stranded in its prefetch until the sweeper re-sends it."""

import pytest
import redis
from django.conf import settings

from processes.models import Job
from processes.services import instance_start
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker
QUEUED = 12


def test_a_busy_worker_reserves_no_more_than_it_can_run(workers):
    publish("waits", [service_step("slow", "test.slow", input={"seconds": 5}, timeout="10s")])
    for _ in range(QUEUED):
        instance_start(definition_key="waits")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    wait_for(lambda: broker.llen("celery") == QUEUED, what="the jobs to be queued")
    workers.start("busy", concurrency=1)
    wait_for(
        lambda: Job.objects.filter(status=JobStatus.RUNNING).exists(),
        what="the worker to start a step",
    )
    wait_for(lambda: broker.llen("celery") <= QUEUED - 1, what="the worker to take its work")
    # One running and at most one reserved behind it; the rest stay in the queue.
    assert broker.llen("celery") >= QUEUED - 2
    workers.kill("busy")
    assert broker.llen("celery") >= QUEUED - 2
