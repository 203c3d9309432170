"""Human tasks: what a user step waits for."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from processes.models import ProcessInstance, Token
from processes.statuses import TaskState


class Task(FSMModelMixin, models.Model):
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tasks")
    token = models.OneToOneField(Token, on_delete=models.CASCADE, related_name="task")
    step_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    state = FSMField(default=TaskState.OPEN, choices=TaskState.choices, protected=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    candidate_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="candidate_tasks"
    )
    candidate_groups = models.ManyToManyField(Group, blank=True, related_name="candidate_tasks")
    form = models.JSONField(default=dict, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = (
            models.Index(fields=("assignee", "state"), name="task_assignee_state"),
            models.Index(fields=("state", "due_date"), name="task_state_due"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @transition(field=state, source=TaskState.OPEN, target=TaskState.ASSIGNED)
    def claim(self, *, user) -> None:
        self.assignee = user
        self.claimed_at = timezone.now()

    @transition(field=state, source=TaskState.ASSIGNED, target=TaskState.OPEN)
    def unclaim(self) -> None:
        self.assignee = None
        self.claimed_at = None

    @transition(field=state, source=(TaskState.OPEN, TaskState.ASSIGNED), target=TaskState.ASSIGNED)
    def assign(self, *, user) -> None:
        self.assignee = user
        self.claimed_at = timezone.now()

    @transition(field=state, source=TaskState.ASSIGNED, target=TaskState.COMPLETED)
    def complete(self, *, user, result: dict) -> None:
        self.completed_by = user
        self.completed_at = timezone.now()
        self.result = result

    @transition(
        field=state, source=(TaskState.OPEN, TaskState.ASSIGNED), target=TaskState.CANCELLED
    )
    def cancel(self) -> None:
        self.completed_at = timezone.now()
