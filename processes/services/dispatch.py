"""Sending job ids to the workers once the transaction that made them is committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

logger = logging.getLogger(__name__)


def jobs_dispatch_on_commit(job_ids: Iterable[int]) -> None:
    ids = list(job_ids)
    if ids:
        transaction.on_commit(lambda: _send(ids))


def _send(job_ids: list[int]) -> None:
    from processes.jobs import run_job

    for sent, job_id in enumerate(job_ids):
        try:
            run_job.apply_async(args=(job_id,))
        except Exception:  # noqa: BLE001 - the rows are committed; the sweeper sends them again
            # The broker is down: trying each remaining id would only wait for each timeout.
            logger.warning(
                "could not send %d job(s) to the broker; the sweeper will", len(job_ids) - sent
            )
            return
