"""Many tasks at once, written in bulk (through the engine 10,000 would take minutes).

Used by the inbox query-count test and by bench/inbox_render.py.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from processes.models import DefinitionVersion, ProcessInstance, Token
from processes.statuses import InstanceStatus, TaskState, TokenHolder, TokenStatus
from tasks.models import Task

STEP = "manager_approval"


def expense_tasks_create(
    *, user: User, group: Group, assigned: int, queued: int, completed: int = 0
) -> None:
    """Expense approvals for `user`: `assigned` to them, `queued` for `group`, `completed`
    by them. Created, due dates and priorities vary so that sorting has work to do."""
    version = DefinitionVersion.objects.filter(definition__key="expense-approval").latest("number")
    form = version.graph["nodes"][STEP]["form"]
    total = assigned + queued + completed
    now = timezone.now()
    instances = ProcessInstance.objects.bulk_create(
        ProcessInstance(
            definition_id=version.definition_id,
            definition_version=version,
            status=InstanceStatus.RUNNING,
            variables={"amount": 1000 + n, "description": f"Expense {n}"},
            business_key=f"BULK-{n:05}",
            active_tokens=1,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(total)
    )
    tokens = Token.objects.bulk_create(
        Token(instance=instance, node_id=STEP, status=TokenStatus.ACTIVE, holder=TokenHolder.TASK)
        for instance in instances
    )
    states = [TaskState.ASSIGNED] * assigned + [TaskState.OPEN] * queued
    states += [TaskState.COMPLETED] * completed
    tasks = Task.objects.bulk_create(
        Task(
            instance=instance,
            token=token,
            step_id=STEP,
            name="Approve the expense",
            form=form,
            state=state,
            assignee=user if state != TaskState.OPEN else None,
            completed_by=user if state == TaskState.COMPLETED else None,
            priority=n % 5,
            due_date=now + timedelta(hours=n % 97 - 24),
            created_at=instance.created_at,
        )
        for n, (instance, token, state) in enumerate(zip(instances, tokens, states, strict=True))
    )
    Task.candidate_groups.through.objects.bulk_create(
        Task.candidate_groups.through(task_id=task.pk, group_id=group.pk) for task in tasks
    )
