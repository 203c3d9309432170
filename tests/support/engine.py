"""Driving the engine inside the test process, for tests that don't need a worker."""

from __future__ import annotations

from django.utils import timezone

from processes.models import Job, ProcessInstance
from processes.selectors import instance_history
from processes.services import job_run
from processes.statuses import JobStatus


def run_due_jobs(*, rounds: int = 50) -> int:
    """Run every scheduled, due job in this process until none is left; returns how many ran."""
    ran = 0
    for _ in range(rounds):
        due = list(
            Job.objects.filter(status=JobStatus.SCHEDULED, due_at__lte=timezone.now())
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not due:
            return ran
        for job_id in due:
            job_run(job_id=job_id)
            ran += 1
    return ran


def fresh(instance: ProcessInstance) -> ProcessInstance:
    return ProcessInstance.objects.get(pk=instance.pk)


def event_types(instance: ProcessInstance, step_id: str | None = None) -> list[str]:
    events = instance_history(instance=instance)
    if step_id is not None:
        events = events.filter(step_id=step_id)
    return [e.type for e in events]
