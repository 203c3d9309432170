"""Running a service step's job on a worker: lease, call the service, report the outcome.

Delivery is at least once. A duplicate message finds the job already leased or finished
and does nothing; an outcome is only accepted from the holder of the current lease, so a
worker that comes back late after its lease was taken over cannot complete a step twice.
"""

from __future__ import annotations

import json
import logging
import time
import traceback as tb
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connections, transaction
from django.utils import timezone

from processes.dsl.graph import TIMEOUT_ERROR
from processes.engine.kinds import kind_of
from processes.engine.retries import catch_target, retry_delay
from processes.errors import InvalidInput
from processes.metrics import record_service_step
from processes.models import Job, ProcessInstance
from processes.registry import ServiceContext, get_service
from processes.rows import row_get, row_lock, row_save, rows_update
from processes.services.advance import (
    Change,
    instance_change,
    instance_fail_at,
    step_complete,
    token_end_and_route,
)
from processes.settings import engine_setting
from processes.statuses import EventType, InstanceStatus, JobStatus
from processes.storable import unstorable
from processes.timeouts import StepTimeout, deadline
from processes.variables import variables_size_check

T = TypeVar("T")
logger = logging.getLogger(__name__)


class InvalidResult(TypeError):
    """A service returned something that cannot be merged into the variables."""


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: uuid.UUID
    token_id: int  # the instance's token at the job's step
    instance_id: str
    context: ServiceContext
    service: str
    timeout_seconds: float


def job_run(*, job_id: int) -> None:
    """Lease job `job_id`, run its service and report the outcome (the Celery task's body).

    When the step's success schedules a next service step, this worker was given its lease
    and runs it too, up to CHAIN_STEPS in a row.
    """
    lease = job_lease(job_id=job_id)
    chained = 0
    while lease is not None:
        lease = _run_leased(lease, keep_next=chained < engine_setting("CHAIN_STEPS"))
        chained += 1


def _run_leased(lease: Lease, *, keep_next: bool) -> Lease | None:
    """Run the service of a leased job; returns the next job's lease if this worker keeps it."""
    started = time.monotonic()
    failure = None
    try:
        function = get_service(lease.service)
        with deadline(lease.timeout_seconds):
            result = storable_result(function(lease.context))
    except StepTimeout:
        # The deadline may have cut a query of the service's short, leaving the connection
        # mid-statement: start the report on a fresh one.
        connections.close_all()
        message = f"the step ran longer than its timeout of {lease.timeout_seconds:g}s"
        failure = (TIMEOUT_ERROR, message, "")
    except Exception as exc:  # noqa: BLE001 - any error of user code fails the attempt
        _log_step(lease, logging.WARNING, "service step failed", exc_info=True)
        failure = (type(exc).__name__, str(exc), tb.format_exc())
    if failure is None:
        seconds = time.monotonic() - started
        try:
            report = _on_a_live_connection(
                lambda: job_report_success(lease=lease, result=result, keep_next=keep_next)
            )
        except InvalidResult as exc:  # it would take the variables over their limit
            failure = (type(exc).__name__, str(exc), "")
        else:
            if report.accepted:
                record_service_step(outcome="succeeded", seconds=seconds)
                _log_step(lease, logging.INFO, "service step succeeded", seconds=round(seconds, 6))
            return report.next_lease
    error, message, traceback = failure
    outcome = _on_a_live_connection(
        lambda: job_report_failure(
            lease=lease, error=error, message=message, traceback=traceback
        )
    )
    if outcome is not None:
        record_service_step(outcome=outcome, seconds=time.monotonic() - started)
    return None


def _on_a_live_connection(report: Callable[[], T]) -> T:
    """Make a report, once more on a fresh connection if the kept one died while the service
    ran (PostgreSQL restarted): its first statement failed and nothing was written. Without
    this the step would wait for its lease to expire and run again. A report whose COMMIT was
    cut off is not applied twice: the lease it used is no longer current."""
    try:
        return report()
    except (OperationalError, InterfaceError):
        logger.warning("database connection lost before reporting a step; reconnecting")
        connections.close_all()
        return report()


def storable_result(result: Any) -> dict[str, Any]:
    """What a service returned, if it can be merged into the variables (a JSON object)."""
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise InvalidResult(f"a service must return a dict or None, not {kind_of(result)}")
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidResult(f"the result cannot be stored as JSON: {exc}") from None
    problem = unstorable(result, at="result")
    if problem:
        raise InvalidResult("{}: {}, which cannot be stored".format(*problem))
    try:
        variables_size_check(result)
    except InvalidInput as exc:
        raise InvalidResult(f"the result is too big: {exc.message}") from None
    return result


def _log_step(
    lease: Lease, level: int, message: str, *, exc_info: bool = False, **fields: Any
) -> None:
    context = lease.context
    logger.log(
        level,
        "%s: %s (job %s, instance %s)",
        message,
        context.step_id,
        lease.job_id,
        lease.instance_id,
        extra={
            "instance_id": lease.instance_id,
            "step_id": context.step_id,
            "job_id": lease.job_id,
            "attempt": context.attempt,
            **fields,
        },
        exc_info=exc_info,
    )


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
    return _lease_of(job, instance)


def _lease_of(job: Job, instance) -> Lease:
    return Lease(
        job_id=job.pk,
        token=job.lease_token,
        token_id=job.token_id,
        instance_id=instance.pk,
        service=job.service,
        timeout_seconds=job.timeout_seconds,
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
        context = lease.context
        step_complete(
            change,
            token_id=lease.token_id,
            node_id=context.step_id,
            result=result,
            job_id=lease.job_id,
            attempt=context.attempt,
        )
    kept = change.kept_job
    return SuccessReport(accepted=True, next_lease=_lease_of(kept, instance) if kept else None)


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
        delay = retry_delay(node.retry, error=error, attempt=job.attempt)
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
    """A job failed for good: route to its catch, or fail the instance at its step."""
    node = change.graph.node(job.step_id)
    target = catch_target(node.catch, error=job.error)
    if target is None:
        instance_fail_at(
            change,
            node_id=job.step_id,
            arrived_from="",
            error=job.error,
            message=job.error_message,
            traceback=job.traceback,
            token_id=job.token_id,
        )
        return
    instance = change.instance
    caught = {"step": job.step_id, "error": job.error, "message": job.error_message}
    instance.variables = {**instance.variables, "last_error": caught}
    change.log.add(
        EventType.TASK_FAILED, job.step_id, error=job.error, message=job.error_message, next=target
    )
    token_end_and_route(change, token_id=job.token_id, node_id=job.step_id, target=target)


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


def instance_jobs_redispatch(change: Change) -> None:
    """Send again the scheduled, due jobs of an instance that runs again (resume, retry)."""
    now = timezone.now()
    due = Job.objects.filter(instance=change.instance, status=JobStatus.SCHEDULED, due_at__lte=now)
    change.job_ids.extend(due.values_list("id", flat=True))
    due.update(dispatched_at=now)
