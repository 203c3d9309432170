"""A worker reports the outcome of a leased job: the step succeeds, is retried, is caught
or fails the instance. Only the holder of the job's current lease is heard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from processes.engine.retries import retry_delay
from processes.errors import InvalidInput
from processes.models import Job
from processes.rows import rows_update
from processes.services.advance import (
    Change,
    instance_change,
    step_complete,
    token_fail_or_catch,
)
from processes.services.compensations import compensation_failed, compensation_succeeded
from processes.services.leases import Lease, lease_of
from processes.statuses import EventType, InstanceStatus, JobStatus
from processes.variables import variables_size_check

logger = logging.getLogger(__name__)


class InvalidResult(TypeError):
    """A service returned something that cannot be merged into the variables."""


@dataclass(frozen=True)
class SuccessReport:
    accepted: bool  # False: the lease was no longer current, nothing was recorded
    next_lease: Lease | None = None  # the next service job, kept for this worker


def job_report_success(
    *, lease: Lease, result: dict[str, Any], keep_next: bool = False
) -> SuccessReport:
    """Record the result and move the instance on. Locks the instance row, then the job's.

    An instance that is not running (suspended, failed) keeps the result on the job and
    applies it when it runs again. A lease that is no longer current changes nothing. With
    `keep_next`, the next service job is leased to the calling worker (`next_lease`).
    InvalidResult, with nothing written, when the result would take the instance's variables
    over FLOWDESK_MAX_VARIABLES_BYTES.
    """
    with instance_change(lease.instance_id, keep_one_job=keep_next) as change:
        instance = change.instance
        if result:
            try:
                variables_size_check({**instance.variables, **result})
            except InvalidInput as exc:
                raise InvalidResult(f"the variables would grow too big: {exc.message}") from None
        if not _job_succeed(lease, result):
            return SuccessReport(accepted=False)
        if instance.status != InstanceStatus.RUNNING:
            return SuccessReport(accepted=True)
        job_success_apply(
            change,
            job_id=lease.job_id,
            token_id=lease.token_id,
            step_id=lease.context.step_id,
            result=result,
            attempt=lease.context.attempt,
            compensates=lease.compensates,
        )
    kept = change.kept_job
    return SuccessReport(accepted=True, next_lease=lease_of(kept, instance) if kept else None)


def job_success_apply(
    change: Change,
    *,
    job_id: int,
    token_id: int,
    step_id: str,
    result: dict[str, Any],
    attempt: int,
    compensates: int | None,
) -> None:
    """A job succeeded: its step completes, or its compensation is recorded."""
    if compensates is not None:
        compensation_succeeded(
            change,
            job_id=job_id,
            token_id=token_id,
            step_id=step_id,
            compensates=compensates,
            result=result,
            attempt=attempt,
        )
        return
    step_complete(
        change, token_id=token_id, node_id=step_id, result=result, job_id=job_id, attempt=attempt
    )


def _job_succeed(lease: Lease, result: dict[str, Any]) -> bool:
    """The job's `succeed` transition, saved only if `lease` is still the job's current one.

    One compare-and-set UPDATE instead of reading the row first: this runs once per step.
    """
    job = Job(pk=lease.job_id, status=JobStatus.RUNNING, lease_token=lease.token)
    job.succeed(result=result)
    saved = rows_update(
        Job,
        {field: getattr(job, field) for field in Job.SUCCESS_FIELDS},
        pk=lease.job_id,
        status=JobStatus.RUNNING,
        lease_token=lease.token,
    )
    if not saved:
        _log_stale(lease)
    return bool(saved)


def job_report_failure(*, lease: Lease, error: str, message: str, traceback: str) -> str | None:
    """Retry the attempt, route to a catch, or fail the instance. Locks the instance row.

    Returns what became of the attempt: "retried", "failed" (routed to a catch or failing
    the instance), or None when the lease was no longer current.
    """
    error, message, traceback = _text(error, 200), _text(message, 4000), _text(traceback, 50_000)
    with instance_change(lease.instance_id) as change:
        instance = change.instance
        job = _leased_job(lease)
        if job is None:
            return None
        node = change.graph.node(job.step_id)
        rules = node.retry if job.compensates_id is None else node.compensation.retry
        delay = retry_delay(rules, error=error, attempt=job.attempt)
        if delay is not None:
            job.error, job.error_message, job.traceback = error, message, traceback
            job.reschedule(delay_seconds=delay, next_attempt=True)
            job.save()
            change.log.add(
                EventType.TASK_RETRIED,
                job.step_id,
                attempt=job.attempt,
                delay_seconds=delay,
                error=error,
                message=message,
                **({"compensates": job.compensates_id} if job.compensates_id else {}),
            )
            outcome = "retried"
        else:
            job.fail(error=error, message=message, traceback=traceback)
            job.save()
            if instance.status == InstanceStatus.RUNNING:
                job_failure_apply(change, job=job)
            outcome = "failed"
    return outcome


def job_failure_apply(change: Change, *, job: Job) -> None:
    """A job failed for good: route to its catch, or fail the instance at its step (a
    compensation's: with CompensationFailed, which no catch of the step's handles)."""
    if job.compensates_id is not None:
        compensation_failed(change, job=job)
        return
    token_fail_or_catch(
        change,
        node=change.graph.node(job.step_id),
        token_id=job.token_id,
        error=job.error,
        message=job.error_message,
        traceback=job.traceback,
    )


def _text(value: str, limit: int) -> str:
    """Error texts come from user code: no NUL (PostgreSQL refuses it), and bounded."""
    value = value.replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _leased_job(lease: Lease) -> Job | None:
    job = Job.objects.filter(pk=lease.job_id).first()
    if job is None or job.status != JobStatus.RUNNING or job.lease_token != lease.token:
        _log_stale(lease)
        return None
    return job


def _log_stale(lease: Lease) -> None:
    logger.info("job %s: outcome of a lease that is no longer current ignored", lease.job_id)
