"""Leasing a service step's job to the worker that runs it.

Delivery is at least once. A duplicate message finds the job already leased or finished
and does nothing; an outcome is only accepted from the holder of the current lease (see
`processes.services.job_reports`), so a worker that comes back late after its lease was
taken over cannot complete a step twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from processes.models import Job, ProcessInstance
from processes.registry import ServiceContext
from processes.rows import row_get, row_lock, row_save
from processes.settings import engine_setting
from processes.statuses import InstanceStatus, JobStatus


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: uuid.UUID
    token_id: int  # the instance's token at the job's step
    instance_id: str
    context: ServiceContext
    service: str
    timeout_seconds: float
    compensates: int | None = None  # a compensation's job: the completion it undoes


def job_lease(*, job_id: int) -> Lease | None:
    """Take the lease of a scheduled, due job of a running instance, or None.

    Locks the job row with SKIP LOCKED: a row another worker holds is being leased already.
    """
    with transaction.atomic():
        job = row_lock(Job, job_id, skip_locked=True)
        if job is None or job.status != JobStatus.SCHEDULED or job.due_at > timezone.now():
            return None
        instance = row_get(ProcessInstance, job.instance_id)
        if instance is None or instance.status != InstanceStatus.RUNNING:
            return None
        job.lease(token=uuid.uuid4(), grace_seconds=engine_setting("LEASE_GRACE"))
        row_save(job, Job.LEASE_FIELDS)
    return lease_of(job, instance)


def lease_of(job: Job, instance: ProcessInstance) -> Lease:
    """The lease `job` holds now, with what its service is called with."""
    return Lease(
        job_id=job.pk,
        token=job.lease_token,
        token_id=job.token_id,
        instance_id=instance.pk,
        service=job.service,
        timeout_seconds=job.timeout_seconds,
        compensates=job.compensates_id,
        context=ServiceContext.build(
            input=job.input,
            variables=instance.variables,
            instance_id=instance.pk,
            business_key=instance.business_key,
            step_id=job.step_id,
            job_id=job.pk,
            attempt=job.attempt,
        ),
    )
