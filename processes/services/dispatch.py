"""Sending job ids to the workers once the transaction that made them is committed.

The task is sent by its registered name: the services never import the Celery tasks
(`processes.jobs`), which import the services.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from celery import current_app
from django.db import transaction
from django.utils import timezone

from processes.models import Job
from processes.statuses import JobStatus

if TYPE_CHECKING:
    from processes.services.advance import Change

RUN_JOB_TASK = "flowdesk.run_job"  # the name processes.jobs registers run_job under
logger = logging.getLogger(__name__)


def jobs_dispatch_on_commit(job_ids: Iterable[int]) -> None:
    ids = list(job_ids)
    if ids:
        transaction.on_commit(lambda: _send(ids))


def instance_jobs_redispatch(change: Change) -> None:
    """Send again the scheduled, due jobs of an instance that runs again (resume, retry)."""
    now = timezone.now()
    due = Job.objects.filter(instance=change.instance, status=JobStatus.SCHEDULED, due_at__lte=now)
    change.job_ids.extend(due.values_list("id", flat=True))
    due.update(dispatched_at=now)


def _send(job_ids: list[int]) -> None:
    for sent, job_id in enumerate(job_ids):
        try:
            current_app.send_task(RUN_JOB_TASK, args=(job_id,))
        except Exception:  # noqa: BLE001 - the rows are committed; the sweeper sends them again
            # The broker is down: trying each remaining id would only wait for each timeout.
            logger.warning(
                "could not send %d job(s) to the broker; the sweeper will", len(job_ids) - sent
            )
            return
