"""Opening the human task a user step waits for.

`assignee` names a user (or, when no user has that name, a group whose members become the
candidates); `candidate_users` and `candidate_groups` name users and groups. Each may be a
`${...}` template over the instance variables, and may render to a list.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from processes.dsl.graph import Node
from processes.engine.expressions import render
from processes.models import ProcessInstance, Token
from tasks.models import Task


def task_open(
    *, instance: ProcessInstance, token: Token, node: Node, variables: dict[str, Any]
) -> Task:
    """Runs under the instance lock taken by the caller; raises ExpressionError on a bad name.
    The templates see `variables` (the instance's, or a for-each item's)."""
    assignee_names = _names(node.assignee, variables)
    user_names = [name for template in node.candidate_users for name in _names(template, variables)]
    group_names = [
        name for template in node.candidate_groups for name in _names(template, variables)
    ]

    users = get_user_model().objects
    assignee = users.filter(username=assignee_names[0]).first() if assignee_names else None
    if (
        assignee is None
        and assignee_names
        and Group.objects.filter(name=assignee_names[0]).exists()
    ):
        group_names.append(assignee_names[0])

    task = Task(
        instance=instance,
        token=token,
        step_id=node.id,
        name=node.name,
        form={name: asdict(field) for name, field in node.form.items()},
        priority=node.priority,
        due_date=(
            timezone.now() + timedelta(seconds=node.due_in_seconds) if node.due_in_seconds else None
        ),
    )
    if assignee is not None:
        task.assign(user=assignee)
    task.save()
    if user_names:
        task.candidate_users.set(users.filter(username__in=user_names))
    if group_names:
        # Candidate groups are real groups: a definition may name one before anyone is in it.
        task.candidate_groups.set([Group.objects.get_or_create(name=n)[0] for n in group_names])
    return task


def _names(template: str, variables: dict[str, Any]) -> list[str]:
    if not template:
        return []
    value = render(template, variables)
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if v not in (None, "")]
