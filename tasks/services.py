"""The write API for human tasks: claim, unclaim, complete.

Claim and unclaim lock the task row; complete locks the instance row, then the task row,
the same order every instance-wide change uses.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.permissions import can_assign_tasks, require
from accounts.selectors import users_assignable
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.metrics import record_user_step
from processes.services.advance import instance_change, instance_lock, step_complete
from processes.services.history import EventLog
from processes.statuses import EventType, InstanceStatus, TaskState
from processes.variables import variables_size_check
from tasks.form_validation import form_clean
from tasks.models import Task
from tasks.selectors import task_is_candidate


def task_claim(*, task: Task, user: Any) -> Task:
    """Make `user` the assignee of an open task they are a candidate for.

    Locks the instance row (so a suspend cannot slip in between), then the task row.
    """
    with transaction.atomic():
        instance = instance_lock(task.instance_id)
        locked = _lock(task)
        if locked.state == TaskState.ASSIGNED and locked.assignee_id == user.pk:
            return locked
        _refuse_if_closed(locked)
        if locked.state == TaskState.ASSIGNED:
            raise Conflict(f"the task is already claimed by {locked.assignee.get_username()}")
        if not task_is_candidate(task=locked, user=user):
            raise NotAllowed("you are not a candidate for this task")
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(
                f"the process instance is {instance.status}; the task cannot be claimed"
            )
        locked.claim(user=user)
        locked.save()
        _log(locked, user, EventType.TASK_CLAIMED, assignee=user.get_username())
    return locked


def task_unclaim(*, task: Task, user: Any) -> Task:
    """Give a claimed task back to its candidates. Locks the instance row, then the task
    row (every change of an instance's history holds its lock: the bus keeps its order)."""
    with transaction.atomic():
        instance_lock(task.instance_id)
        locked = _lock(task)
        _refuse_if_closed(locked)
        if locked.state != TaskState.ASSIGNED:
            raise Conflict("the task is not claimed")
        if locked.assignee_id != user.pk and not user.is_superuser:
            raise NotAllowed("only the assignee may give the task back")
        locked.unclaim()
        locked.save()
        _log(locked, user, EventType.TASK_UNCLAIMED)
    return locked


def task_assign(*, task: Task, assignee: Any, user: Any) -> Task:
    """A manager gives an open or claimed task to `assignee`. Locks the instance row, then
    the task row."""
    require(user, can_assign_tasks, "only managers and admins may assign tasks")
    if not users_assignable().filter(pk=getattr(assignee, "pk", None)).exists():
        raise InvalidInput(
            "tasks are given to active people", field_errors={"assignee": ["is not an active user"]}
        )
    with transaction.atomic():
        instance_lock(task.instance_id)
        locked = _lock(task)
        _refuse_if_closed(locked)
        locked.assign(user=assignee)
        locked.save()
        _log(locked, user, EventType.TASK_ASSIGNED, assignee=assignee.get_username())
    return locked


def task_complete(*, task: Task, user: Any, variables: dict[str, Any] | None) -> Task:
    """Check the submitted values against the form, complete the task, move the instance on.

    Locks the instance row, then the task row.
    """
    with instance_change(task.instance_id, actor=user) as change:
        instance = change.instance
        locked = _lock(task)
        _refuse_if_closed(locked)
        if locked.state != TaskState.ASSIGNED:
            raise NotAllowed("claim the task before completing it")
        if locked.assignee_id != user.pk:
            raise NotAllowed("only the assignee may complete this task")
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(f"the process instance is {instance.status}; the task cannot complete")
        values = form_clean(form=locked.form, values=variables, declared=instance.graph.variables)
        variables_size_check({**instance.variables, **values})
        locked.complete(user=user, result=values)
        locked.save()
        step_complete(
            change, token_id=locked.token_id, node_id=locked.step_id, result=values, task_id=task.pk
        )
        seconds = (locked.completed_at - locked.created_at).total_seconds()
        transaction.on_commit(lambda: record_user_step(seconds=seconds))
    return locked


def _lock(task: Task) -> Task:
    # No select_related: after waiting for the lock PostgreSQL re-reads the task row but not
    # an outer-joined assignee, which would come back stale.
    try:
        return Task.objects.select_for_update().get(pk=task.pk)
    except Task.DoesNotExist:
        raise NotFound(f"no task {task.pk}") from None


def _refuse_if_closed(task: Task) -> None:
    if task.state == TaskState.COMPLETED:
        by = task.completed_by.get_username() if task.completed_by else "someone else"
        raise Conflict(f"the task was already completed by {by}")
    if task.state == TaskState.CANCELLED:
        raise Conflict("the task was cancelled")


def _log(task: Task, user: Any, event: EventType, **payload: Any) -> None:
    log = EventLog(task.instance, user)
    log.add(event, task.step_id, task_id=task.pk, **payload)
    log.save()
