"""The read API for human tasks: visibility, the inbox queues, candidacy."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from processes.errors import NotFound
from processes.statuses import TaskState
from tasks.models import Task


def _candidate(user: Any) -> Q:
    """Named as a candidate user, or a member of a candidate group (as subqueries, no joins)."""
    named = Task.candidate_users.through.objects.filter(task_id=OuterRef("pk"), user_id=user.pk)
    in_group = Task.candidate_groups.through.objects.filter(
        task_id=OuterRef("pk"), group__user=user.pk
    )
    return Q(Exists(named)) | Q(Exists(in_group))


def tasks_involving(*, user: Any) -> QuerySet[Task]:
    """Tasks `user` is assigned, a candidate for, or completed."""
    return Task.objects.filter(Q(assignee=user) | Q(completed_by=user) | _candidate(user))


def tasks_visible_to(*, user: Any) -> QuerySet[Task]:
    """Every task for managers; else the tasks `user` is involved in."""
    from accounts.permissions import can_see_all_tasks

    return Task.objects.all() if can_see_all_tasks(user) else tasks_involving(user=user)


def task_get_visible(*, task_id: Any, user: Any) -> Task:
    """The task, or NotFound when it does not exist or `user` may not see it."""
    try:
        task = tasks_visible_to(user=user).filter(pk=int(task_id)).first()
    except (TypeError, ValueError):
        task = None
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def tasks_assigned_to(*, user: Any) -> QuerySet[Task]:
    """My tasks: claimed by or assigned to `user`, not finished."""
    return Task.objects.filter(state=TaskState.ASSIGNED, assignee=user)


def tasks_claimable_by(*, user: Any) -> QuerySet[Task]:
    """The group queue: open tasks for which `user` is a candidate."""
    return Task.objects.filter(state=TaskState.OPEN).filter(_candidate(user))


def tasks_completed_by(*, user: Any) -> QuerySet[Task]:
    return Task.objects.filter(state=TaskState.COMPLETED, completed_by=user)


def task_is_candidate(*, task: Task, user: Any) -> bool:
    """Whether `user` may claim `task`: named as a candidate, or in a candidate group."""
    if user.is_superuser:
        return True
    return Task.objects.filter(pk=task.pk).filter(_candidate(user)).exists()
