"""Running a service step's job on a worker: lease, call the service, report the outcome.

The lease (`leases`) makes delivery at least once safe; the report (`job_reports`) is
heard only from the lease's holder.
"""

from __future__ import annotations

import json
import logging
import time
import traceback as tb
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connections

from processes.dsl.graph import TIMEOUT_ERROR
from processes.engine.kinds import kind_of
from processes.errors import InvalidInput
from processes.metrics import record_service_step
from processes.registry import error_name, get_service
from processes.services.job_reports import InvalidResult, job_report_failure, job_report_success
from processes.services.leases import Lease, job_lease
from processes.settings import engine_setting
from processes.storable import unstorable
from processes.timeouts import StepTimeout, deadline
from processes.variables import variables_size_check

T = TypeVar("T")
logger = logging.getLogger(__name__)


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
        failure = (error_name(exc), str(exc), tb.format_exc())
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
        lambda: job_report_failure(lease=lease, error=error, message=message, traceback=traceback)
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
