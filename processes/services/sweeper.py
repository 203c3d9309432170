"""The periodic sweeper (Celery beat): nothing is lost between the database and the broker.

It sends the jobs that are due and that no worker holds: retries whose backoff has passed,
and jobs whose message went missing (a broker restart or flush). It also takes back jobs
whose worker died mid-step (an expired lease), fires the timers that are due, starts the
instances that start triggers make due, applies the ends of child instances that their
parents still wait for, marks buffered messages whose ttl passed as expired, sends again
the migration batches whose job went missing, and wakes the outbox relay and sends the due
webhook deliveries (`outbox_sweep`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from processes.models import Job
from processes.services.dispatch import jobs_dispatch_on_commit
from processes.services.lease_expiry import job_lease_expire
from processes.services.messages import messages_expire
from processes.services.migration_batches import migration_batches_resume
from processes.services.outbox import outbox_sweep
from processes.services.subprocesses import children_ended_apply_due
from processes.services.timers import timers_fire_due
from processes.services.triggers import triggers_fire_due
from processes.settings import engine_setting
from processes.statuses import InstanceStatus, JobStatus

BATCH = 500
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    dispatched: int
    expired: int
    fired: int  # timers
    started: int  # instances, by start triggers


def jobs_sweep() -> SweepReport:
    """Locks the due job rows it sends (SKIP LOCKED, so two sweeps never send one job twice);
    then fires due timers, each under its instance's lock (`timers_fire_due`), and starts an
    instance for each due start trigger, each under its trigger's lock (`triggers_fire_due`)."""
    now = timezone.now()
    expired = list(
        Job.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now).values_list(
            "id", "instance_id"
        )[:BATCH]
    )
    for job_id, instance_id in expired:
        try:
            job_lease_expire(job_id=job_id, instance_id=instance_id)
        except Exception:
            logger.exception("could not take back job %s", job_id)

    stale = now - timedelta(seconds=engine_setting("REDISPATCH_AFTER"))
    with transaction.atomic():
        due = list(
            Job.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=JobStatus.SCHEDULED, due_at__lte=now)
            .filter(instance__status=InstanceStatus.RUNNING)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
            .order_by("due_at")
            .values_list("id", flat=True)[:BATCH]
        )
        if due:
            Job.objects.filter(pk__in=due).update(dispatched_at=now)
            jobs_dispatch_on_commit(due)
    fired = timers_fire_due()
    started = triggers_fire_due()
    children_ended_apply_due()
    messages_expire()
    migration_batches_resume()
    outbox_sweep()
    return SweepReport(dispatched=len(due), expired=len(expired), fired=fired, started=started)
