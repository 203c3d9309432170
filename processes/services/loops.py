"""For-each steps: one run of a service, user or subprocess step per item of a list.

A token entering the step rests there for the whole loop, held by a `Loop` row (the list,
how many items started, completed and are in flight, each one's result); it carries the
step's boundary events. Each item runs as the kind's own step (`LoopHost.enter_one`) with
a token of its own (`Token.loop`, `Token.loop_index`), held by its job, task or child.
Items start in list order, at most `max_concurrency` at a time (0: all at once).

When an item completes, its result is kept at its index and `complete_when` is asked; when
it holds, or every item completed, the items still running are cancelled, the results are
merged as the `collect` list (None where an item did not complete) and the step's token
moves on. A failing item goes to the step's `catch` (the other items are cancelled) or
fails the instance at the item, whose retry runs that item again.

Every function here runs under the instance's row lock (`instance_change`); the Loop row
is changed only there, so it needs no lock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils import timezone

from processes.dsl.graph import Node
from processes.engine.expressions import ExpressionError, condition, render
from processes.engine.retries import catch_target
from processes.engine.routing import EXPRESSION_ERROR
from processes.models import Loop, Token
from processes.nodes import node_kind
from processes.nodes.boundary import boundary_prepare
from processes.nodes.loop import LOOP_VARIABLE
from processes.rows import rows_update
from processes.services.advance import (
    Change,
    fail_on_expression,
    instance_fail_at,
    step_fail_or_catch,
    token_move_on,
    token_place,
)
from processes.settings import engine_setting
from processes.statuses import EventType, InstanceStatus, TokenHolder, TokenStatus
from processes.variables import json_size

ITEMS_INVALID = "ForEachItemsInvalid"
TOO_MANY_ITEMS = "ForEachTooManyItems"
RESULTS_TOO_LARGE = "ForEachResultsTooLarge"
_PROGRESS = ("started", "active", "completed", "results", "results_bytes")  # items change these


@dataclass(frozen=True)
class Item:
    """One item of a loop, as its run of the step sees it."""

    loop_id: int
    index: int
    variables: dict[str, Any]  # the step's variables, the item and `loop`

    def place(self, token: Token) -> Token:
        """Mark a token about to be inserted as this item's."""
        token.loop_id, token.loop_index = self.loop_id, self.index
        return token


def loop_enter(change: Change, *, node: Node, arrived_from: str) -> None:
    """A token arrives at for-each step `node`: render its list, place the step's token and
    its Loop, arm the step's boundary events and start the first items. A list that is no
    list, or too long, fails the step (to its catch)."""
    instance = change.instance
    try:
        items = render(node.for_each.items, instance.variables)
        due = boundary_prepare(node, instance.variables, now=timezone.now())
    except ExpressionError as exc:
        fail_on_expression(change, node, arrived_from, exc)
        return
    token = token_place(change, node, arrived_from, holder=TokenHolder.LOOP)
    problem = _items_problem(node, items)
    if problem is not None:
        error, message = problem
        change.later(
            partial(
                step_fail_or_catch,
                change,
                node=node,
                token_id=token.pk,
                error=error,
                message=message,
            )
        )
        return
    loop = Loop.objects.create(
        instance=instance, token=token, step_id=node.id, items=list(items), total=len(items)
    )
    change.log.add_by_engine(EventType.LOOP_STARTED, node.id, total=loop.total, loop_id=loop.pk)
    node_kind(node).boundary_arm(change, node, token, due)
    if not items:
        # Routed on once the walk that entered the step is applied, like a child that ends
        # at once: the paths beside it reach their joins first.
        change.later(partial(_loop_finish, change, node=node, loop=loop))
        return
    _items_start(change, node, loop)


def loop_item_done(
    change: Change, *, token_id: int, node: Node, result: dict[str, Any], **payload: Any
) -> None:
    """An item's run of the step completed with `result`: keep it, then start the next
    items or end the step (`complete_when`, or every item done)."""
    loop_id, index = Token.objects.filter(pk=token_id).values_list("loop_id", "loop_index").get()
    ended = rows_update(
        Token, Token.transition_changes("end"), pk=token_id, status=TokenStatus.ACTIVE
    )
    if not ended:
        return  # a late or repeated outcome: the item is done (or cancelled) already
    change.instance.active_tokens -= 1
    # The list is read only if more items start (a lazy load then).
    loop = Loop.objects.defer("items").get(pk=loop_id)
    if node.compensation is not None:
        # Its undo sees the item as the step did.
        payload["scope"] = _item_scope(node, loop, index)
    change.log.add(EventType.TASK_COMPLETED, node.id, result=result, loop_index=index, **payload)
    loop.completed += 1
    loop.active -= 1
    if node.for_each.collect:
        loop.results[str(index)] = result
        loop.results_bytes += json_size(result)
        too_big = _results_problem(change, loop)
        if too_big is not None:
            _loop_abandon(change, loop)
            step_fail_or_catch(
                change, node=node, token_id=loop.token_id, error=RESULTS_TOO_LARGE, message=too_big
            )
            return
    _loop_continue(change, node, loop)


def _loop_continue(change: Change, node: Node, loop: Loop) -> None:
    """After an item completed (or a retry of the loop): end the step when every item is
    done or `complete_when` holds, else start the next items. A `complete_when` that cannot
    be evaluated goes to the step's catch (the items cancelled), or fails the instance at
    the step with its items left as they are: a retry goes on from there, and the items
    that completed do not run again."""
    done = loop.completed == loop.total
    if not done and node.for_each.complete_when:
        seen = {"total": loop.total, "completed": loop.completed, "active": loop.active}
        try:
            done = condition(
                node.for_each.complete_when, {**change.instance.variables, LOOP_VARIABLE: seen}
            )
        except ExpressionError as exc:
            if catch_target(node.catch, error=EXPRESSION_ERROR) is not None:
                _loop_abandon(change, loop)
                step_fail_or_catch(
                    change,
                    node=node,
                    token_id=loop.token_id,
                    error=EXPRESSION_ERROR,
                    message=str(exc),
                )
                return
            loop.save(update_fields=_PROGRESS)
            instance_fail_at(
                change,
                node_id=node.id,
                arrived_from=node.id,
                error=EXPRESSION_ERROR,
                message=str(exc),
                token_id=loop.token_id,
            )
            return
    if done:
        _loop_finish(change, node=node, loop=loop)
    else:
        _items_start(change, node, loop)


def loop_resume(change: Change, token: Token) -> bool:
    """An operator retries a for-each step whose loop failed itself (its `complete_when`):
    the loop goes on where it stopped. False when `token` holds no loop (the list could not
    be read): the step is entered again."""
    loop = Loop.objects.defer("items").filter(token=token).first()
    if loop is None:
        return False
    token.reactivate()
    token.save(update_fields=Token.TRANSITION_FIELDS)
    change.instance.active_tokens += 1
    _loop_continue(change, change.graph.node(token.node_id), loop)
    return True


def loop_item_failed(
    change: Change, *, token_id: int, node: Node, error: str, message: str, traceback: str = ""
) -> None:
    """An item's run failed for good: with a `catch` for `error`, the other items are
    cancelled and the step goes there; without one, the instance fails at the item (the
    others go on), and an operator's retry runs that item again. An item no longer running
    (its loop ended, or another item's failure took the catch first) changes nothing."""
    if catch_target(node.catch, error=error) is None:
        if Token.objects.filter(pk=token_id, status=TokenStatus.ACTIVE).exists():
            instance_fail_at(
                change,
                node_id=node.id,
                arrived_from=node.id,
                error=error,
                message=message,
                traceback=traceback,
                token_id=token_id,
            )
        return
    ended = rows_update(
        Token, Token.transition_changes("end"), pk=token_id, status=TokenStatus.ACTIVE
    )
    if not ended:
        return
    change.instance.active_tokens -= ended
    loop = Loop.objects.get(item_tokens=token_id)
    _loop_abandon(change, loop)
    step_fail_or_catch(
        change, node=node, token_id=loop.token_id, error=error, message=message, traceback=traceback
    )


def loop_cancel(change: Change, *, token_id: int) -> bool:
    """An interrupting boundary event on a for-each step: cancel its running items. False
    when `token_id` holds no loop (a step run once)."""
    loop = Loop.objects.filter(token_id=token_id).first()
    if loop is None:
        return False
    _loop_abandon(change, loop)
    return True


def loop_item_again(change: Change, token: Token) -> None:
    """An operator retries an item that failed on its way in: run it again, same index."""
    token.cancel()
    token.save(update_fields=Token.TRANSITION_FIELDS)
    loop = Loop.objects.get(pk=token.loop_id)
    node = change.graph.node(token.node_id)
    item = _item(change, node, loop, token.loop_index)
    node_kind(node).enter_one(change, node, node.id, item=item)


def token_variables(change: Change, token: Token) -> dict[str, Any]:
    """What the templates of `token`'s run of its step see: the instance's variables, or
    an item's (the instance's variables, the item and `loop`)."""
    if token.loop_id is None:
        return change.instance.variables
    loop = Loop.objects.get(pk=token.loop_id)
    return _item(change, change.graph.node(token.node_id), loop, token.loop_index).variables


def _items_problem(node: Node, items: Any) -> tuple[str, str] | None:
    if not isinstance(items, list):
        kind = "null" if items is None else type(items).__name__
        return ITEMS_INVALID, f"for_each items {node.for_each.items!r} gave {kind}, not a list"
    limit = engine_setting("MAX_ITEMS")
    if len(items) > limit:
        return TOO_MANY_ITEMS, (
            f"for_each items {node.for_each.items!r} gave {len(items):,} items; a step runs"
            f" for at most {limit:,} (FLOWDESK_MAX_ITEMS)"
        )
    return None


def _results_problem(change: Change, loop: Loop) -> str | None:
    """Why the results collected so far cannot join the instance's variables, if so."""
    limit = engine_setting("MAX_VARIABLES_BYTES")
    size = json_size(change.instance.variables) + loop.results_bytes
    if size <= limit:
        return None
    return (
        f"the collected results would take the variables to about {size:,} bytes, more than"
        f" the {limit:,} allowed (FLOWDESK_MAX_VARIABLES_BYTES): have each item return less"
    )


def _items_start(change: Change, node: Node, loop: Loop) -> None:
    """Start the next items in list order while fewer than the limit are in flight."""
    limit = node.for_each.max_concurrency or loop.total
    kind = node_kind(node)
    while (
        loop.active < limit
        and loop.started < loop.total
        and change.instance.status == InstanceStatus.RUNNING
    ):
        index = loop.started
        loop.started += 1
        loop.active += 1
        kind.enter_one(change, node, node.id, item=_item(change, node, loop, index))
    loop.save(update_fields=_PROGRESS)


def _loop_abandon(change: Change, loop: Loop) -> int:
    """Cancel the loop's items still running (their jobs, tasks, children); how many."""
    from processes.services.subscriptions import token_waits_cancel

    kind = node_kind(change.graph.node(loop.step_id))
    running = Token.objects.filter(loop=loop, status=TokenStatus.ACTIVE).order_by("loop_index")
    for token_id in list(running.values_list("pk", flat=True)):
        kind.holder_cancel_one(change, token_id)
        token_waits_cancel(change, token_id=token_id)  # a child's retry timer
    cancelled = rows_update(
        Token, Token.transition_changes("cancel"), loop=loop.pk, status=TokenStatus.ACTIVE
    )
    change.instance.active_tokens -= cancelled
    loop.active = 0
    loop.save(update_fields=_PROGRESS)
    return cancelled


def _loop_finish(change: Change, *, node: Node, loop: Loop) -> None:
    """Every item completed, or `complete_when` held: cancel the rest, merge `collect`,
    and move the step's token on."""
    cancelled = _loop_abandon(change, loop)
    collected = [loop.results.get(str(index)) for index in range(loop.total)]
    name = node.for_each.collect
    if name:
        change.instance.variables = {**change.instance.variables, name: collected}
    change.log.add(
        EventType.LOOP_COMPLETED,
        node.id,
        completed=loop.completed,
        total=loop.total,
        cancelled=cancelled,
        **({"collect": name} if name else {}),
    )
    token_move_on(change, token_id=loop.token_id, node_id=node.id)


def _item(change: Change, node: Node, loop: Loop, index: int) -> Item:
    """An item as its run sees it: the instance's variables now (a repaired variable counts
    on retry), the item and `loop`."""
    scope = _item_scope(node, loop, index)
    return Item(loop.pk, index, {**change.instance.variables, **scope})


def _item_scope(node: Node, loop: Loop, index: int) -> dict[str, Any]:
    """What an item adds to the step's variables: itself and `loop`."""
    return {
        node.for_each.as_name: loop.items[index],
        LOOP_VARIABLE: {"index": index, "total": loop.total},
    }
