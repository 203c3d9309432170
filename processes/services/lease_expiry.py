"""Taking a job back from a worker that stopped answering (its lease expired)."""

from __future__ import annotations

from django.utils import timezone

from processes.dsl.graph import TIMEOUT_ERROR
from processes.models import Job
from processes.services.advance import instance_change
from processes.services.job_reports import job_report_failure
from processes.services.leases import Lease
from processes.settings import engine_setting
from processes.statuses import EventType, JobStatus


def job_lease_expire(*, job_id: int, instance_id: str) -> None:
    """The worker holding the job is gone: run the attempt again, or time it out for good.

    Locks the instance row, then re-reads the job to be sure the lease really expired.
    """
    with instance_change(instance_id) as change:
        instance = change.instance
        job = Job.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, lease_expires_at__lt=timezone.now()
        ).first()
        if job is None:
            return
        lease = Lease(
            job_id=job.pk,
            token=job.lease_token,
            token_id=job.token_id,
            instance_id=instance.pk,
            context=None,  # type: ignore[arg-type] - not needed to report
            service=job.service,
            timeout_seconds=job.timeout_seconds,
        )
        if job.lease_losses + 1 < engine_setting("MAX_LEASE_LOSSES"):
            job.lease_losses += 1
            job.reschedule(delay_seconds=0, next_attempt=False)
            job.save()
            change.log.add(
                EventType.TASK_RETRIED,
                job.step_id,
                attempt=job.attempt,
                delay_seconds=0,
                error="WorkerLost",
                message="the worker running this step stopped answering; running it again",
            )
            return
    losses = engine_setting("MAX_LEASE_LOSSES")
    message = (
        f"the worker running this step was lost {losses} times in a row "
        "(FLOWDESK_MAX_LEASE_LOSSES): this attempt counts as timed out"
    )
    job_report_failure(lease=lease, error=TIMEOUT_ERROR, message=message, traceback="")
