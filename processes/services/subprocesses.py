"""Subprocess steps: a parent's token waits for a child instance (`processes.nodes.subprocess`).

Lock order: the parent's row, then the child's, never the reverse. Everything a parent
does to its child (start it, terminate, suspend or resume it with itself, cancel it when
a boundary event interrupts the step) happens under the parent's lock, which is taken
first. A child's own end happens under the child's lock alone: it never takes its
parent's. Instead, when the child's change ends it (completed, failed, cancelled), an
on_commit callback applies that end to the parent in a new transaction, which locks the
parent, then the child (`child_end_apply`). That callback is a convenience, not the
truth: if the process dies between the child's commit and the parent's update, the
sweeper finds every ended child whose parent's token still waits for it
(`children_ended_apply_due`) and applies it, and so does the parent's resume. Applying is
idempotent: it only acts while the token is active and the child is the one it waits for.

A child that ends in the very transaction that started it (it had no step to wait at)
ends the parent's step in that transaction, once the walk that entered it is applied.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction

from processes.dsl.graph import Node
from processes.engine.expressions import ExpressionError
from processes.engine.retries import retry_delay
from processes.engine.routing import EXPRESSION_ERROR
from processes.errors import InvalidInput
from processes.models import ProcessInstance, Timer, Token
from processes.nodes import node_kind
from processes.nodes.subprocess import is_subprocess
from processes.rows import row_lock, rows_update
from processes.services.advance import (
    Change,
    fail_on_expression,
    instance_cancel_all,
    instance_catch_up,
    instance_change,
    instance_suspend_all,
    step_complete,
    token_fail_or_catch,
    token_place,
)
from processes.services.loops import Item, token_variables
from processes.settings import engine_setting
from processes.statuses import EventType, InstanceStatus, TokenHolder, TokenStatus

logger = logging.getLogger(__name__)

SUBPROCESS_FAILED = "SubprocessFailed"
DEPTH_EXCEEDED = "SubprocessDepthExceeded"
NOT_FOUND = "SubprocessNotFound"
INPUT_INVALID = "SubprocessInputInvalid"
ENDED = (InstanceStatus.COMPLETED, InstanceStatus.FAILED, InstanceStatus.CANCELLED)
BATCH = 500


def subprocess_enter(
    change: Change, *, node: Node, arrived_from: str, item: Item | None = None
) -> None:
    """A token arrives at subprocess step `node` (or one `item` of its loop runs): place
    it, arm the step's boundary events, and start its child (`child_start`). Under the
    parent's lock."""
    from django.utils import timezone

    from processes.nodes.boundary import boundary_prepare

    if item is None:
        try:
            due = boundary_prepare(node, change.instance.variables, now=timezone.now())
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc)
            return
    token = token_place(change, node, arrived_from, holder=TokenHolder.CHILD, item=item)
    if item is None:
        node_kind(node).boundary_arm(change, node, token, due)
    variables = change.instance.variables if item is None else item.variables
    child_start(change, node=node, token=token, variables=variables)


def child_start(change: Change, *, node: Node, token: Token, variables: dict[str, Any]) -> None:
    """Start the child that `token` at `node` waits for, walked to its first waits in this
    transaction: `input` rendered against `variables` (the parent's, or its item's), the
    definition's version resolved now. Under the parent's lock (the child's row is new). A
    step that cannot start its child fails (catchable): a template that cannot be
    evaluated, an unknown definition or version (SubprocessNotFound), variables the child
    refuses (SubprocessInputInvalid), or one level too deep (SubprocessDepthExceeded)."""
    from processes.services.instances import instance_start_child

    parent = change.instance
    kind = node_kind(node)
    try:
        version, scope, values = kind.child_start_with(change, node, variables)
    except ExpressionError as exc:
        _step_fail_later(change, node, token, EXPRESSION_ERROR, str(exc))
        return
    limit = engine_setting("MAX_SUBPROCESS_DEPTH")
    if parent.depth >= limit:
        message = f"subprocesses nest at most {limit} deep (FLOWDESK_MAX_SUBPROCESS_DEPTH)"
        _step_fail_later(change, node, token, DEPTH_EXCEEDED, message)
        return
    if version is None:
        which = "the latest version" if node.version is None else f"version {node.version}"
        message = f"no {which} of process definition {node.definition!r}"
        _step_fail_later(change, node, token, NOT_FOUND, message)
        return
    try:
        child = instance_start_child(
            version=version,
            variables=values,
            parent=parent,
            parent_token=token,
            scope=scope,
            actor=None,
        )
    except InvalidInput as exc:
        fields = "; ".join(f"{name}: {', '.join(errs)}" for name, errs in exc.field_errors.items())
        message = f"{node.definition} refuses the input: {fields or exc.message}"
        _step_fail_later(change, node, token, INPUT_INVALID, message)
        return
    change.log.add_by_engine(
        EventType.TASK_SCHEDULED,
        node.id,
        kind=kind.type,
        child_id=child.pk,
        definition=version.definition.key,
        version=version.number,
        **({"loop_index": token.loop_index} if token.loop_id is not None else {}),
    )
    if child.status in ENDED:
        change.later(partial(_child_outcome_apply, change, node=node, token=token, child=child))


def child_restart(change: Change, *, timer: Timer) -> None:
    """The step's retry timer fired: start a new child for its token (parent's lock)."""
    token = Token.objects.get(pk=timer.token_id)
    if token.status == TokenStatus.ACTIVE:
        variables = token_variables(change, token)
        child_start(change, node=change.graph.node(timer.step_id), token=token, variables=variables)


def child_end_notify(child: ProcessInstance) -> None:
    """The child's change ends it: once committed, apply the end to its parent. Robust: a
    failure here is logged, and the sweeper applies the end later."""
    transaction.on_commit(partial(child_end_apply, child_id=child.pk), robust=True)


def child_end_apply(*, child_id: str) -> bool:
    """Apply the end of child `child_id` to its parent's step: `output` merged and on, or
    the step fails. Locks the parent's row, then the child's. False when there is nothing
    to apply (the parent does not run, its token waits no more, the child has not ended)."""
    parent_id = (
        ProcessInstance.objects.filter(pk=child_id).values_list("parent_id", flat=True).first()
    )
    if parent_id is None:
        return False
    with instance_change(parent_id) as change:
        if change.instance.status != InstanceStatus.RUNNING:
            return False  # its resume applies the end
        return _child_end_apply(change, child_id)


def children_ended_apply_due() -> int:
    """The sweeper's part: apply the ends of children whose parents still wait for them
    (an on_commit callback lost with its process). Each under the parent's lock, then the
    child's. Returns how many it applied."""
    ended = ProcessInstance.objects.filter(
        status__in=ENDED,
        parent_token__status=TokenStatus.ACTIVE,
        parent__status=InstanceStatus.RUNNING,
    ).values_list("pk", flat=True)[:BATCH]
    applied = 0
    for child_id in list(ended):
        try:
            applied += child_end_apply(child_id=child_id)
        except Exception:
            logger.exception("could not apply the end of child instance %s", child_id)
    return applied


def children_terminate(
    change: Change, *, token_id: int | None = None, by_engine: bool = False
) -> None:
    """Terminate the children the instance's waiting tokens (or token `token_id`) wait
    for, and theirs in turn: a person's doing, or with `by_engine` the engine's (a terminate
    end, an interrupting boundary event). Under the parent's lock, then each child's."""
    live = (InstanceStatus.PENDING, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
    for child_id in _children_of(change, token_id, live):
        with instance_change(child_id, actor=change.actor) as child_change:
            if child_change.instance.status not in live:
                continue  # it ended on its own between the query and the lock
            child_change.instance.terminate()
            log = child_change.log.add_by_engine if by_engine else child_change.log.add
            log(EventType.WORKFLOW_CANCELLED, parent_id=change.instance.pk)
            instance_cancel_all(child_change, by_engine=by_engine)


def children_suspend(change: Change) -> None:
    """Suspend the running children, and theirs in turn (parent's lock, then each
    child's)."""
    for child_id in _children_of(change, None, (InstanceStatus.RUNNING,)):
        with instance_change(child_id, actor=change.actor) as child_change:
            if child_change.instance.status != InstanceStatus.RUNNING:
                continue  # it ended on its own between the query and the lock
            child_change.instance.suspend()
            child_change.log.add(EventType.WORKFLOW_SUSPENDED, parent_id=change.instance.pk)
            instance_suspend_all(child_change)


def children_catch_up(change: Change) -> None:
    """The instance runs again: resume its suspended children (and theirs), then apply
    the ends of the children that ended meanwhile. Parent's lock, then each child's."""
    if change.instance.status != InstanceStatus.RUNNING:
        return
    for child_id in _children_of(change, None, (InstanceStatus.SUSPENDED,)):
        with instance_change(child_id, actor=change.actor) as child_change:
            if child_change.instance.status != InstanceStatus.SUSPENDED:
                continue  # an operator resumed or terminated it between query and lock
            child_change.instance.resume()
            child_change.log.add(EventType.WORKFLOW_RESUMED, parent_id=change.instance.pk)
            instance_catch_up(child_change)
    for child_id in _children_of(change, None, ENDED):
        if change.instance.status != InstanceStatus.RUNNING:
            break
        _child_end_apply(change, child_id)


def _children_of(change: Change, token_id: int | None, statuses: tuple) -> list[str]:
    """The children in `statuses` that the instance's active tokens wait for, oldest first."""
    waiting = Token.objects.filter(
        instance=change.instance, status=TokenStatus.ACTIVE, holder=TokenHolder.CHILD
    )
    if token_id is not None:
        waiting = waiting.filter(pk=token_id)
    return list(
        ProcessInstance.objects.filter(parent_token__in=waiting, status__in=statuses)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


def _child_end_apply(change: Change, child_id: str) -> bool:
    child = row_lock(ProcessInstance, child_id)
    if child is None or child.status not in ENDED or child.parent_token_id is None:
        return False
    token = Token.objects.filter(pk=child.parent_token_id, status=TokenStatus.ACTIVE).first()
    if token is None or token.instance_id != change.instance.pk:
        return False
    _child_outcome_apply(change, node=change.graph.node(token.node_id), token=token, child=child)
    return True


def _child_outcome_apply(
    change: Change, *, node: Node, token: Token, child: ProcessInstance
) -> None:
    """The child `token` waits for ended: merge its `output` and move on; or retry the
    step (a timer starts a new child) or fail it (to its catch, or failing the parent). A
    token no longer waiting (a for-each step's item cancelled by its loop's end while this
    was deferred) changes nothing."""
    if not Token.objects.filter(pk=token.pk, status=TokenStatus.ACTIVE).exists():
        return
    kind = node_kind(node)
    if child.status == InstanceStatus.COMPLETED:
        try:
            output = kind.child_result(change, node, token, child)
        except ExpressionError as exc:
            token_fail_or_catch(
                change, node=node, token_id=token.pk, error=EXPRESSION_ERROR, message=str(exc)
            )
            return
        step_complete(
            change,
            token_id=token.pk,
            node_id=node.id,
            result=output,
            child_id=child.pk,
        )
        return
    error, message = _child_error(child)
    # One retry timer per earlier attempt of this token's child.
    attempt = 1 + Timer.objects.filter(token=token, boundary__isnull=True).count()
    delay = retry_delay(node.retry, error=error, attempt=attempt)
    if delay is None:
        token_fail_or_catch(change, node=node, token_id=token.pk, error=error, message=message)
        return
    _retry_later(change, node=node, token=token, child=child, delay=delay)
    change.log.add(
        EventType.TASK_RETRIED,
        node.id,
        attempt=attempt + 1,
        delay_seconds=delay,
        error=error,
        message=message,
        child_id=child.pk,
    )


def _retry_later(
    change: Change, *, node: Node, token: Token, child: ProcessInstance, delay: float
) -> None:
    """The token waits for a new child, started by a timer after `delay`: the failed one
    is no longer the one it waits for (so its end is not applied twice)."""
    from datetime import timedelta

    from django.utils import timezone

    from processes.services.timers import timer_schedule

    rows_update(ProcessInstance, {"parent_token": None}, pk=child.pk)
    timer_schedule(
        change, token_id=token.pk, step_id=node.id, due_at=timezone.now() + timedelta(seconds=delay)
    )


def _child_error(child: ProcessInstance) -> tuple[str, str]:
    """The error the parent's step fails with: the child's own when it failed at an error
    end (a `fail` step, an `end` with an error) or passed one up from its own subprocess
    step; SubprocessFailed for any other failure, and for a child terminated on its own."""
    if child.status == InstanceStatus.CANCELLED:
        return SUBPROCESS_FAILED, f"child instance {child.pk} was terminated"
    error = child.error or {}
    name, step_id = error.get("error") or SUBPROCESS_FAILED, error.get("step_id", "")
    nodes = child.graph.nodes
    named = step_id in nodes and (
        node_kind(nodes[step_id]).error_code(nodes[step_id]) is not None
        or is_subprocess(nodes[step_id])
    )
    detail = f"child instance {child.pk} failed at {step_id or '?'}: {name}"
    if error.get("message"):
        detail += f": {error['message']}"
    return (name if named else SUBPROCESS_FAILED), detail


def _step_fail_later(change: Change, node: Node, token: Token, error: str, message: str) -> None:
    change.later(
        partial(
            token_fail_or_catch, change, node=node, token_id=token.pk, error=error, message=message
        )
    )
