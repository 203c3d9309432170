"""The saga: undoing an instance's completed steps by running their compensations.

A service step may name its undo (`Node.compensation`). A `compensate` step, or a terminate
with `compensate=True`, runs the compensation of every completed step that has one, latest
completion first, one at a time; each is a Job like a service step's (leased by a worker,
retried by the compensation's own rules, taken back from a lost worker), marked with the
TASK_COMPLETED event it undoes (`Job.compensates`). Its token rests at the compensated
step while it runs.

What is left to undo is read from the history each time: the TASK_COMPLETED events of
steps with a compensation, minus those a STEP_COMPENSATED event names. So a step that ran
twice is undone twice, one undone already is not undone again, and a compensation is
recorded once however often its job is delivered (only the current lease's outcome is
heard). Every function here runs under the instance's row lock (`instance_change`).

While compensations run, the instance is `running`: suspend, resume, retry and terminate
act on it as on any running instance. When none is left, the compensate steps' tokens move
on to their `next`; with no such token the compensations were a terminate's, and the
instance ends `cancelled`.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from processes.dsl.graph import Node
from processes.engine.expressions import ExpressionError, render
from processes.models import Event, Job, Token
from processes.rows import row_insert
from processes.services.advance import (
    Change,
    instance_fail_at,
    token_move_on,
    token_place,
    token_release,
)
from processes.settings import engine_setting
from processes.statuses import EventType, JobStatus, TokenHolder, TokenStatus

COMPENSATION_FAILED = "CompensationFailed"
TERMINATE = "terminate"  # what starts the compensations of a terminate


def compensation_start(change: Change, *, by: str) -> None:
    """Start undoing the instance's completed steps; `by` is the compensate step's id, or
    TERMINATE (the change's actor asked for it). With nothing to undo, the saga ends at
    once: a compensate step's token moves on, a terminated instance is cancelled."""
    # The events of this change count: the step that led here may have completed just now.
    change.log.save()
    steps = [event.step_id for event in _pending(change)]
    log = change.log.add if by == TERMINATE else change.log.add_by_engine
    log(EventType.COMPENSATION_STARTED, "" if by == TERMINATE else by, by=by, steps=steps)
    compensation_next(change)


def compensation_next(change: Change) -> None:
    """Schedule the next compensation unless one is under way; with none left, end the
    saga: the compensate steps' tokens move on, or a terminate's instance is cancelled."""
    running = (JobStatus.SCHEDULED, JobStatus.RUNNING)
    instance = change.instance
    if Job.objects.filter(
        instance=instance, compensates__isnull=False, status__in=running
    ).exists():
        return
    change.log.save()
    pending = _pending(change)
    if pending:
        _schedule(change, pending[0])
        return
    waiting = Token.objects.filter(
        instance=instance, status=TokenStatus.ACTIVE, holder=TokenHolder.COMPENSATION
    ).order_by("id")
    tokens = list(waiting.values_list("id", "node_id"))
    for token_id, node_id in tokens:
        # Named by the compensate step it lets go on (the diagram follows its flow).
        change.log.add_by_engine(EventType.COMPENSATION_COMPLETED, node_id)
        token_move_on(change, token_id=token_id, node_id=node_id)
    if not tokens:
        change.log.add_by_engine(EventType.COMPENSATION_COMPLETED)
        instance.terminate()
        change.log.add(EventType.WORKFLOW_CANCELLED, compensated=True)


def compensation_succeeded(
    change: Change,
    *,
    job_id: int,
    token_id: int,
    step_id: str,
    compensates: int,
    result: dict[str, Any],
    attempt: int,
) -> None:
    """A compensation's job succeeded: its result is merged, the next one is scheduled."""
    if result:
        change.instance.variables = {**change.instance.variables, **result}
    token_release(change, token_id=token_id)
    change.log.add(
        EventType.STEP_COMPENSATED,
        step_id,
        compensates=compensates,
        result=result,
        job_id=job_id,
        attempt=attempt,
    )
    compensation_next(change)


def compensation_failed(change: Change, *, job: Job) -> None:
    """A compensation failed for good: the instance fails at the compensated step; a retry
    (`instance_retry`) runs the compensation again, not the step."""
    instance_fail_at(
        change,
        node_id=job.step_id,
        arrived_from="",
        error=COMPENSATION_FAILED,
        message=f"the compensation of step '{job.step_id}' failed: {job.error}: "
        f"{job.error_message}",
        traceback=job.traceback,
        token_id=job.token_id,
    )


def compensation_retry(change: Change, token: Token) -> None:
    """An operator retries a compensation that failed before it had a job (its input):
    the token goes, and the saga schedules what is left, that one first."""
    token.cancel()
    token.save(update_fields=Token.TRANSITION_FIELDS)
    compensation_next(change)


def _pending(change: Change) -> list[Event]:
    """The completions still to undo, latest first."""
    graph = change.graph
    steps = [node.id for node in graph.nodes.values() if node.compensation is not None]
    if not steps:
        return []
    events = Event.objects.filter(instance=change.instance)
    undone = set(
        events.filter(type=EventType.STEP_COMPENSATED).values_list(
            "payload__compensates", flat=True
        )
    )
    completed = events.filter(type=EventType.TASK_COMPLETED, step_id__in=steps).order_by("-id")
    return [event for event in completed.only("id", "step_id", "payload") if event.pk not in undone]


def _schedule(change: Change, completed: Event) -> None:
    """The compensation of `completed`, as a job held by a token at the compensated step."""
    node: Node = change.graph.node(completed.step_id)
    compensation = node.compensation
    # An item of a for-each step is undone seeing its item, as it ran.
    variables = {**change.instance.variables, **completed.payload.get("scope", {})}
    try:
        values = render(compensation.input, variables) if compensation.input else {}
    except ExpressionError as exc:
        # Held by no job: an operator's retry comes back here (`compensation_retry`).
        token = token_place(change, node, "", holder=TokenHolder.COMPENSATION)
        instance_fail_at(
            change,
            node_id=node.id,
            arrived_from="",
            error=COMPENSATION_FAILED,
            message=f"the compensation of step '{node.id}' failed: {exc}",
            token_id=token.pk,
        )
        return
    token = token_place(change, node, "", holder=TokenHolder.JOB)
    job = Job(
        instance=change.instance,
        token=token,
        step_id=node.id,
        service=compensation.service,
        input=values if isinstance(values, dict) else {"value": values},
        timeout_seconds=node.timeout_seconds or engine_setting("DEFAULT_TIMEOUT"),
        dispatched_at=timezone.now(),
        compensates=completed,
    )
    row_insert(job)
    change.job_ids.append(job.pk)
