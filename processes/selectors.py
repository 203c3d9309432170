"""The read API of the engine: querysets for history, instances and their current steps."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from processes.errors import NotFound
from processes.models import Event, Job, ProcessDefinition, ProcessInstance, Token
from processes.statuses import JobStatus, TokenStatus


def instance_history(*, instance: ProcessInstance) -> QuerySet[Event]:
    """The events of `instance` in the order they happened."""
    return Event.objects.filter(instance=instance).select_related("actor").order_by("id")


def instance_current_steps(*, instance: ProcessInstance) -> list[str]:
    """The steps holding a token now (active, waiting at a join, or failed)."""
    return list(
        Token.objects.filter(
            instance=instance,
            status__in=(TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED),
        )
        .order_by("id")
        .values_list("node_id", flat=True)
    )


def jobs_failed(*, instance: ProcessInstance | None = None) -> QuerySet[Job]:
    """Failed jobs (incidents), newest first."""
    jobs = Job.objects.filter(status=JobStatus.FAILED)
    if instance is not None:
        jobs = jobs.filter(instance=instance)
    return jobs.select_related("instance").order_by("-finished_at")


def definitions_startable_by(*, user: Any) -> QuerySet[ProcessDefinition]:
    """Definitions `user` may start: all with the global permission, else guardian grants."""
    from guardian.shortcuts import get_objects_for_user

    return get_objects_for_user(
        user,
        "processes.start_processdefinition",
        klass=ProcessDefinition,
        accept_global_perms=True,
    ).order_by("key")


def instances_visible_to(*, user: Any) -> QuerySet[ProcessInstance]:
    """Every instance for managers; else those the user started or holds a task in."""
    from accounts.permissions import can_see_all_instances
    from tasks.selectors import tasks_involving

    instances = ProcessInstance.objects.all()
    if can_see_all_instances(user):
        return instances
    involved = tasks_involving(user=user).filter(instance=OuterRef("pk"))
    return instances.filter(Q(started_by=user) | Exists(involved))


def instance_get_visible(*, instance_id: str, user: Any) -> ProcessInstance:
    """The instance, or NotFound when it does not exist or `user` may not see it."""
    instance = instances_visible_to(user=user).filter(pk=instance_id).first()
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance
