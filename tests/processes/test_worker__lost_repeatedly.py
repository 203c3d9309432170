"""A step whose worker is lost again and again (it crashes its worker): every loss is in the
history, and the last allowed one counts as a timeout, said in so many words."""

import pytest
from django.utils import timezone

from processes.models import Event, Job
from processes.services import instance_start
from processes.services.lease_expiry import job_lease_expire
from processes.services.leases import job_lease
from processes.statuses import EventType, JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh

pytestmark = pytest.mark.django_db


def lose_the_worker(job: Job) -> None:
    assert job_lease(job_id=job.pk) is not None
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    job_lease_expire(job_id=job.pk, instance_id=job.instance_id)


def test_the_third_lost_worker_times_the_attempt_out(settings):
    settings.FLOWDESK_ENGINE = {**settings.FLOWDESK_ENGINE, "MAX_LEASE_LOSSES": 3}
    publish("crashes", [service_step("a", "test.noop")])
    instance = instance_start(definition_key="crashes")
    job = Job.objects.get()
    for _ in range(3):
        lose_the_worker(job)
    assert Job.objects.get().status == JobStatus.FAILED
    assert fresh(instance).status == "failed"
    retried = Event.objects.filter(instance=instance, type=EventType.TASK_RETRIED)
    assert [e.payload["error"] for e in retried] == ["WorkerLost", "WorkerLost"]
    failed = Event.objects.get(instance=instance, type=EventType.TASK_FAILED)
    assert failed.payload["error"] == "States.Timeout"
    assert "lost 3 times in a row" in failed.payload["message"]
