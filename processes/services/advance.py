"""Moving an instance forward: the engine's routing plans applied to the database.

Every function here runs inside a transaction that holds the instance's row lock: a
service opens one with `instance_change`, whose `Change` gathers what the transaction does
(events, jobs to send) and is settled and saved when the block ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from django.db import transaction
from django.db.models import Count

from processes.dsl.graph import Node
from processes.engine import routing
from processes.engine.expressions import ExpressionError
from processes.engine.retries import catch_target
from processes.errors import NotFound
from processes.models import Job, ProcessInstance, Token
from processes.nodes import KINDS, node_kind
from processes.rows import row_insert, row_lock, row_save, rows_update
from processes.services.dispatch import jobs_dispatch_on_commit
from processes.services.history import EventLog
from processes.statuses import EventType, InstanceStatus, TokenHolder, TokenStatus

DEADLOCK = "Deadlock"
# What a change of an instance may touch; the rest of the row is fixed at its start.
INSTANCE_STATE_FIELDS = ("status", "variables", "active_tokens", "error", "ended_at", "updated_at")


def instance_lock(instance_id: str) -> ProcessInstance:
    """Lock the instance row for the rest of the transaction.

    FOR NO KEY UPDATE: it excludes every other change of the instance, but not the key-share
    locks that inserting a row referencing the instance (an event, a token) takes; a plain
    FOR UPDATE would deadlock against a task claim appending its event.
    """
    instance = row_lock(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


class Change:
    """One locked change of an instance: its events, and the jobs to send once committed.

    With `keep_one_job`, the first service job this change schedules is leased to the
    calling worker instead of being sent (`kept_job`): a worker that finishes a step runs
    the next one itself, sparing a broker round trip. The lease makes it as safe as a sent
    job: if that worker dies, the sweeper takes the job back when the lease expires.
    """

    def __init__(self, instance: ProcessInstance, actor: Any = None, *, keep_one_job=False):
        self.instance = instance
        self.actor = actor
        self.log = EventLog(instance, actor)
        self.job_ids: list[int] = []
        self.keep_one_job = keep_one_job
        self.kept_job: Job | None = None
        self.deferred: list[Callable[[], None]] = []
        self._before = _state_of(instance)

    def later(self, then: Callable[[], None]) -> None:
        """Run `then` once the walk in progress is applied, before the change settles: a
        step that finishes as it is entered (a child instance that completed at once)
        routes on only after the paths beside it have reached their joins."""
        self.deferred.append(then)

    def _run_deferred(self) -> None:
        while self.deferred:
            self.deferred.pop(0)()

    @cached_property
    def graph(self):
        return self.instance.graph

    @property
    def touched(self) -> bool:
        """Whether the change did anything: every change of an instance is in its history,
        or at least in its status, tokens, variables or jobs."""
        return bool(
            self.log.pending
            or self.job_ids
            or self.kept_job is not None
            or _state_of(self.instance) != self._before
        )

    def finish(self) -> None:
        """Settle the instance (complete it when nothing is left to do) and save the change.
        A change that did nothing writes nothing."""
        self._run_deferred()
        if not self.touched:
            return
        # A released OR-join's walk may defer work of its own (a child that cannot start).
        while _joins_release(self):
            self._run_deferred()
        _settle(self)
        if self.instance.parent_token_id is not None and self.instance.status != self._before[0]:
            from processes.services.subprocesses import child_end_notify

            child_end_notify(self.instance)
        if self.kept_job is not None and self.instance.status != InstanceStatus.RUNNING:
            # The same change failed the instance: park the job like any other until the
            # instance runs again (resume and retry send its due jobs).
            self.kept_job.reschedule(delay_seconds=0, next_attempt=False)
            self.kept_job.save()
            self.kept_job = None
        row_save(self.instance, INSTANCE_STATE_FIELDS)
        self.log.save()
        jobs_dispatch_on_commit(self.job_ids)


@contextmanager
def instance_change(
    instance_id: str, *, actor: Any = None, keep_one_job: bool = False
) -> Iterator[Change]:
    """One unit of work on an instance: locks its row, yields the `Change`, and finishes
    it when the block ends normally. An exception rolls everything back and saves nothing.

        with instance_change(instance.pk, actor=user) as change:
            change.instance.suspend()
            change.log.add(EventType.WORKFLOW_SUSPENDED)
    """
    with transaction.atomic():
        instance = instance_lock(instance_id)
        with change_of(instance, actor=actor, keep_one_job=keep_one_job) as change:
            yield change


@contextmanager
def change_of(
    instance: ProcessInstance, *, actor: Any = None, keep_one_job: bool = False
) -> Iterator[Change]:
    """`instance_change` for an instance this transaction holds already (one it inserted)."""
    change = Change(instance, actor, keep_one_job=keep_one_job)
    yield change
    change.finish()


def route_from(change: Change, *, source: str, targets: tuple[str, ...] | list[str]) -> None:
    """Walk from `source` into `targets` and apply what the walk found."""
    plan = routing.route(change.graph, source=source, targets=targets, **_walk_reads(change))
    _plan_apply(change, plan)


def _walk_reads(change: Change) -> dict[str, Any]:
    """What a walk reads of the instance: its variables and where its tokens are."""
    instance = change.instance
    return {
        "variables": instance.variables,
        "waiting_at": lambda join_id: _waiting_at(instance, join_id),
        "tokens_at": lambda: _tokens_at(instance),
    }


def _joins_release(change: Change) -> bool:
    """An OR-join waits only for the tokens that can still reach it: once the last of them
    went elsewhere (ended, was caught or interrupted onto another path), it fires. Checked
    as the change finishes, under its lock, so it fires once; a graph without OR-joins
    skips it, and one with them costs a query while nothing waits there. Whether a join
    fired."""
    joins = change.graph.reachable_joins
    fired = False
    while joins and change.instance.status == InstanceStatus.RUNNING:
        waiting = Token.objects.filter(
            instance=change.instance, status=TokenStatus.WAITING, node_id__in=joins
        )
        for join_id in waiting.values_list("node_id", flat=True).distinct().order_by("node_id"):
            plan = routing.release(change.graph, join_id=join_id, **_walk_reads(change))
            if plan.actions:
                _plan_apply(change, plan)
                fired = True
                break  # the tokens moved: check the joins again
        else:
            return fired
    return fired


def _plan_apply(change: Change, plan: routing.Plan) -> None:
    for action in plan.actions:
        if change.instance.status == InstanceStatus.COMPLETED:
            return  # a terminate end on the way: nothing after it runs
        if isinstance(action, routing.Activate):
            node = change.graph.node(action.node_id)
            node_kind(node).enter(change, node, action.arrived_from)
        elif isinstance(action, routing.Choose):
            change.log.add_by_engine(
                EventType.GATEWAY_EVALUATED,
                action.node_id,
                next=action.target,
                expression=action.expression or None,
            )
        elif isinstance(action, routing.Wait):
            Token.objects.create(
                instance=change.instance,
                node_id=action.node_id,
                status=TokenStatus.WAITING,
                holder=TokenHolder.JOIN,
                arrived_from=action.arrived_from,
            )
        elif isinstance(action, routing.Join):
            _consume_waiting(change, action)
        elif isinstance(action, routing.Fail):
            instance_fail_at(
                change,
                node_id=action.node_id,
                arrived_from=action.arrived_from,
                error=action.error,
                message=action.message,
            )


def step_complete(
    change: Change, *, token_id: int, node_id: str, result: dict[str, Any], **payload: Any
) -> None:
    """The step holding `token_id` is done: merge its result, then route onwards (an item
    of a for-each step: its loop keeps the result, see `processes.services.loops`)."""
    node = change.graph.node(node_id)
    if node.for_each is not None:
        from processes.services.loops import loop_item_done

        loop_item_done(change, token_id=token_id, node=node, result=result, **payload)
        return
    instance = change.instance
    if result:
        instance.variables = {**instance.variables, **result}
    change.log.add(EventType.TASK_COMPLETED, node_id, result=result, **payload)
    token_move_on(change, token_id=token_id, node_id=node_id)


def token_move_on(change: Change, *, token_id: int, node_id: str) -> None:
    """What held `token_id` at `node_id` let it go (a timer fired): route on to `next`."""
    _token_end(change, token_id, "end")
    _boundary_disarm(change, token_id=token_id, node_id=node_id)
    route_from(change, source=node_id, targets=change.graph.node(node_id).next)


def token_end_and_route(change: Change, *, token_id: int, node_id: str, target: str) -> None:
    _token_end(change, token_id, "end")
    _boundary_disarm(change, token_id=token_id, node_id=node_id)
    route_from(change, source=node_id, targets=(target,))


def token_interrupt(change: Change, *, token_id: int, node_id: str) -> None:
    """An interrupting boundary event fired: the token at `node_id` is cancelled, and the
    step's other boundary events with it (the caller routes on)."""
    _token_end(change, token_id, "cancel")
    _boundary_disarm(change, token_id=token_id, node_id=node_id)


def token_release(change: Change, *, token_id: int) -> None:
    """What held `token_id` is done and the token goes nowhere from there (a compensation's
    job: the saga, not the graph, says what runs next)."""
    _token_end(change, token_id, "end")


def _boundary_disarm(change: Change, *, token_id: int, node_id: str) -> None:
    # Only steps with boundary events query for their timers: this runs on every step.
    if change.graph.node(node_id).boundary:
        from processes.services.subscriptions import token_waits_cancel

        token_waits_cancel(change, token_id=token_id)


def token_fail_or_catch(
    change: Change, *, node: Node, token_id: int, error: str, message: str, traceback: str = ""
) -> None:
    """The step holding `token_id` failed for good with `error`: route to the step's
    `catch` for it (the error lands in `last_error`), or fail the instance there. An item of
    a for-each step fails its loop (`processes.services.loops.loop_item_failed`)."""
    if node.for_each is not None:
        from processes.services.loops import loop_item_failed

        loop_item_failed(
            change, token_id=token_id, node=node, error=error, message=message, traceback=traceback
        )
        return
    step_fail_or_catch(
        change, node=node, token_id=token_id, error=error, message=message, traceback=traceback
    )


def step_fail_or_catch(
    change: Change, *, node: Node, token_id: int, error: str, message: str, traceback: str = ""
) -> None:
    """`token_fail_or_catch` for the token resting at the step itself (a for-each step's
    own, when its list cannot be read or its loop fails). A token no longer active (an
    outcome applied late, after the step ended otherwise) changes nothing."""
    if not Token.objects.filter(pk=token_id, status=TokenStatus.ACTIVE).exists():
        return
    target = catch_target(node.catch, error=error)
    if target is None:
        instance_fail_at(
            change,
            node_id=node.id,
            arrived_from="",
            error=error,
            message=message,
            traceback=traceback,
            token_id=token_id,
        )
        return
    instance = change.instance
    caught = {"step": node.id, "error": error, "message": message}
    instance.variables = {**instance.variables, "last_error": caught}
    change.log.add(EventType.TASK_FAILED, node.id, error=error, message=message, next=target)
    token_end_and_route(change, token_id=token_id, node_id=node.id, target=target)


def instance_fail_at(
    change: Change,
    *,
    node_id: str,
    arrived_from: str,
    error: str,
    message: str,
    traceback: str = "",
    token_id: int | None = None,
) -> None:
    """The instance fails at `node_id`; its token stays there, failed, for instance_retry."""
    instance = change.instance
    if token_id is None:
        Token.objects.create(
            instance=instance,
            node_id=node_id,
            status=TokenStatus.FAILED,
            arrived_from=arrived_from,
        )
    else:
        _token_end(change, token_id, "fail")
    details = {"step_id": node_id, "error": error, "message": message, "traceback": traceback}
    change.log.add_by_engine(EventType.TASK_FAILED, node_id, error=error, message=message)
    if instance.status == InstanceStatus.RUNNING:
        instance.fail(error=details)
        change.log.add_by_engine(EventType.WORKFLOW_FAILED, node_id, error=error, message=message)


def token_place(
    change: Change, node: Node, arrived_from: str, *, holder: TokenHolder, item: Any = None
) -> Token:
    """A token arrives at `node` and rests there, held by a `holder` that the kind's `enter`
    adds next (a job, a task); for one `item` of a for-each step (`loops.Item`), that
    item's token."""
    token = Token(
        instance=change.instance,
        node_id=node.id,
        status=TokenStatus.ACTIVE,
        holder=holder,
        arrived_from=arrived_from,
    )
    if item is not None:
        item.place(token)
    row_insert(token)
    change.instance.active_tokens += 1
    return token


def token_walk_again(change: Change, token: Token) -> None:
    """Retry a token that failed at its node by walking in again: the new token arms its
    own waits, so the failed one's (boundary events armed before it failed) are cancelled.
    An item of a for-each step runs again as that item; a for-each step whose loop failed
    goes on with its loop."""
    if token.loop_id is not None:
        from processes.services.loops import loop_item_again

        loop_item_again(change, token)
        return
    if token.holder == TokenHolder.LOOP:
        from processes.services.loops import loop_resume

        if loop_resume(change, token):
            return
    if change.graph.node(token.node_id).boundary:
        from processes.services.subscriptions import token_waits_cancel

        token_waits_cancel(change, token_id=token.pk)
    token.cancel()
    token.save(update_fields=Token.TRANSITION_FIELDS)
    route_from(change, source=token.arrived_from, targets=(token.node_id,))


def instance_catch_up(change: Change, *, rerun_failed: bool = False) -> None:
    """The instance runs again: each kind applies what arrived meanwhile (resume, retry)."""
    for kind in KINDS.values():
        kind.resume(change, rerun_failed=rerun_failed)


def instance_suspend_all(change: Change) -> None:
    """The instance is suspended: each kind holds what runs on its behalf elsewhere."""
    for kind in KINDS.values():
        kind.suspend(change)


def instance_cancel_all(change: Change, *, by_engine: bool = False) -> None:
    """Cancel what holds each of the instance's tokens, then the tokens (terminate): the
    change's actor's doing, or with `by_engine` the engine's (a terminate end). Nothing this
    change scheduled is sent or kept for the worker."""
    instance = change.instance
    for kind in KINDS.values():
        kind.cancel(change, by_engine=by_engine)
    Token.objects.filter(instance=instance, status__in=Token.transition_sources("cancel")).update(
        **Token.transition_changes("cancel")
    )
    instance.active_tokens = 0
    change.job_ids.clear()
    change.kept_job = None


def instance_failed_tokens_rerun(change: Change) -> None:
    """An operator's retry: each token that failed goes to its kind's `retry`."""
    failed = Token.objects.filter(instance=change.instance, status=TokenStatus.FAILED)
    for token in list(failed):
        node_kind(change.graph.node(token.node_id)).retry(change, token)


def fail_on_expression(
    change: Change, node: Node, arrived_from: str, exc: ExpressionError, token_id=None
) -> None:
    """A template of the step (input, assignee) cannot be evaluated: the instance fails there."""
    instance_fail_at(
        change,
        node_id=node.id,
        arrived_from=arrived_from,
        error=routing.EXPRESSION_ERROR,
        message=str(exc),
        token_id=token_id,
    )


def _token_end(change: Change, token_id: int, transition: str) -> None:
    """Token `token_id`, if still active, goes through `transition` (end, fail): one UPDATE
    that is also the check, since it runs on every step."""
    ended = Token.transition_changes(transition)
    updated = rows_update(Token, ended, pk=token_id, status=TokenStatus.ACTIVE)
    change.instance.active_tokens -= updated


def _waiting_at(instance: ProcessInstance, join_id: str) -> Counter:
    rows = (
        Token.objects.filter(instance=instance, node_id=join_id, status=TokenStatus.WAITING)
        .values_list("arrived_from")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


def _tokens_at(instance: ProcessInstance) -> Counter:
    rows = (
        Token.objects.filter(
            instance=instance,
            status__in=(TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED),
        )
        .values_list("node_id")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


def _consume_waiting(change: Change, join: routing.Join) -> None:
    waiting = Token.objects.filter(
        instance=change.instance, node_id=join.node_id, status=TokenStatus.WAITING
    )
    consumed = []
    for predecessor in join.consumed_from:
        token_id = (
            waiting.filter(arrived_from=predecessor).order_by("id").values_list("id", flat=True)
        ).first()
        consumed.append(token_id)
    Token.objects.filter(pk__in=consumed).update(**Token.transition_changes("end"))
    change.log.add_by_engine(
        EventType.JOIN_COMPLETED,
        join.node_id,
        # A released OR-join fires with no token arriving (`arrived_from` empty).
        branches=sorted(p for p in (*join.consumed_from, join.arrived_from) if p),
    )


def _state_of(instance: ProcessInstance) -> tuple:
    # The variables by identity: a change replaces the dict, it never edits it in place.
    return (instance.status, instance.active_tokens, id(instance.variables), instance.error)


def _settle(change: Change) -> None:
    """A running instance with nothing left to do is complete (or stuck at a join)."""
    instance = change.instance
    if instance.status != InstanceStatus.RUNNING or instance.active_tokens > 0:
        return
    stuck = change.graph.has_joins and (
        Token.objects.filter(instance=instance, status=TokenStatus.WAITING)
        .values_list("node_id", flat=True)
        .first()
    )
    if stuck:
        message = "branches wait at a join that no other branch can reach any more"
        instance.fail(error={"step_id": stuck, "error": DEADLOCK, "message": message})
        change.log.add_by_engine(EventType.WORKFLOW_FAILED, stuck, error=DEADLOCK, message=message)
        return
    instance.complete()
    change.log.add_by_engine(EventType.WORKFLOW_COMPLETED)
