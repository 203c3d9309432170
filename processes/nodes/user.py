"""A user step: waits for a person, held by a Task in the inbox.

JSON ``{"type": "user_task", "config": {assignee, candidate_users, candidate_groups, form,
due_date, priority}}``; YAML ``type: user`` with the same fields on the state or under its
`config:`, not both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import TASK_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.dsl.parts import USER_FIELDS, read_user
from processes.engine.expressions import ExpressionError
from processes.engine.plan import Activate
from processes.nodes.base import Names, YamlPlace
from processes.nodes.boundary import boundary_prepare, read_boundary
from processes.nodes.loop import LoopHost, item_named, item_payload, read_for_each

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.models import Token
    from processes.services.advance import Change
    from processes.services.loops import Item


class UserKind(LoopHost):
    type = "user"
    json_type = "user_task"
    yaml_type = "user"
    fields = (
        "next",
        "assignee",
        "candidate_users",
        "candidate_groups",
        "form",
        "due_in_seconds",
        "priority",
        "boundary",
        "for_each",
    )
    bpmn = BpmnElement("userTask", *TASK_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            **read_user(config),
            "boundary": read_boundary(config, "boundary", link),
            "for_each": read_for_each(config),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {
            **read_user(_user_fields(state)),
            "boundary": read_boundary(state, "boundary", place.link, in_branch=place.in_branch),
            "next": place.successor(state),
        }

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter_one(
        self, change: Change, node: Node, arrived_from: str, *, item: Item | None
    ) -> None:
        """Place the token and open its task (assignee and candidates rendered now)."""
        from django.utils import timezone

        from processes.services.advance import fail_on_expression, token_place
        from processes.services.user_steps import task_open
        from processes.statuses import EventType, TokenHolder

        variables = change.instance.variables if item is None else item.variables
        try:
            # An item's step carries no boundary events: its loop's token does.
            due = boundary_prepare(node, variables, now=timezone.now()) if item is None else []
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc)
            return
        token = token_place(change, node, arrived_from, holder=TokenHolder.TASK, item=item)
        try:
            task = task_open(instance=change.instance, token=token, node=node, variables=variables)
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc, token_id=token.pk)
            return
        change.log.add_by_engine(
            EventType.TASK_SCHEDULED,
            node.id,
            kind=self.type,
            task_id=task.pk,
            assignee=task.assignee.get_username() if task.assignee else None,
            **item_payload(item),
        )
        if item is None:
            self.boundary_arm(change, node, token, due)

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """Cancel the instance's open and claimed tasks: they leave every inbox."""
        log = change.log.add_by_engine if by_engine else change.log.add
        _tasks_cancel(change, {"instance": change.instance}, log=log)

    def holder_cancel_one(self, change: Change, token_id: int) -> None:
        """Cancel the token's task: it leaves every inbox."""
        _tasks_cancel(change, {"token_id": token_id}, log=change.log.add_by_engine)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Nothing arrives meanwhile: a task cannot be completed while the instance does not
        run (`task_complete` refuses)."""

    def retry(self, change: Change, token: Token) -> None:
        """A user step fails only on the way in (an assignee template): walk in again."""
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)


def _user_fields(state: Section) -> Section:
    if not state.has("config"):
        return state
    if any(state.has(key) for key in USER_FIELDS):
        state.problem("config", "write the user fields either under 'config' or on the state")
    return state.section("config")


KIND = UserKind()


def _tasks_cancel(change: Change, where: dict[str, Any], *, log: Callable[..., None]) -> None:
    """Cancel the open and claimed tasks `where` selects (locked, under the instance lock),
    each with its TASK_CANCELLED event made by `log`."""
    from django.db.models import F

    from processes.statuses import EventType, TaskState
    from tasks.models import Task

    waiting = (TaskState.OPEN, TaskState.ASSIGNED)
    tasks = Task.objects.filter(state__in=waiting, **where).annotate(
        loop_index=F("token__loop_index")
    )
    for task in tasks.select_for_update(of=("self",)):
        task.cancel()
        task.save()
        log(EventType.TASK_CANCELLED, task.step_id, task_id=task.pk, **item_named(task.loop_index))
