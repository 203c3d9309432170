"""The read API for human tasks."""

from __future__ import annotations

from typing import Any

from tasks.models import Task


def task_is_candidate(*, task: Task, user: Any) -> bool:
    """Whether `user` may claim `task`: named as a candidate, or in a candidate group."""
    if user.is_superuser:
        return True
    if task.candidate_users.filter(pk=user.pk).exists():
        return True
    return task.candidate_groups.filter(user=user).exists()
