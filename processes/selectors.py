"""The read API of the engine: querysets for history, instances and their current steps."""

from __future__ import annotations

from django.db.models import QuerySet

from processes.models import Event, Job, ProcessInstance, Token
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
