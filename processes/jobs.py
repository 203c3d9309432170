"""Celery tasks: they carry job ids and call the services, nothing more."""

from celery import shared_task
from django.conf import settings

from processes.services import instances_purge_expired, job_run, jobs_sweep
from processes.services.dispatch import RUN_JOB_TASK
from processes.services.migration_batches import MIGRATE_BATCH_TASK, migration_batch_run
from processes.services.outbox import RELAY_TASK, outbox_relay
from processes.services.webhooks import DELIVER_TASK, webhook_deliver

# The beat sweep sends due jobs, takes back lost ones and fires due timers.
SWEEP_TASK = "flowdesk.sweep"
# Its name before it also fired timers. Kept registered for one release so that sweeps a
# beat of the previous version queued before an upgrade still run; remove it after.
SWEEP_TASK_OLD_NAME = "flowdesk.sweep_jobs"
# The beat's purge of finished instances past their retention (and of expired messages).
PURGE_TASK = "flowdesk.purge_expired"


@shared_task(name=RUN_JOB_TASK, ignore_result=True)
def run_job(job_id: int) -> None:
    job_run(job_id=job_id)


@shared_task(name=MIGRATE_BATCH_TASK, ignore_result=True)
def migrate_batch(batch_id: int) -> None:
    migration_batch_run(batch_id=batch_id)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep() -> None:
    jobs_sweep()


@shared_task(name=SWEEP_TASK_OLD_NAME, ignore_result=True)
def sweep_jobs() -> None:
    """The old name of `sweep`, for messages queued before an upgrade (see above)."""
    jobs_sweep()


@shared_task(name=PURGE_TASK, ignore_result=True)
def purge_expired() -> None:
    instances_purge_expired()


@shared_task(name=RELAY_TASK, ignore_result=True)
def relay_outbox() -> None:
    outbox_relay()


# A receiver that trickles its answer keeps a socket busy past any per-read timeout: the
# attempt is cut here (its lease runs out and the sweeper sends the delivery again).
@shared_task(
    name=DELIVER_TASK,
    ignore_result=True,
    soft_time_limit=settings.FLOWDESK_OUTBOX["WEBHOOK_TIMEOUT"] + 5,
    time_limit=settings.FLOWDESK_OUTBOX["WEBHOOK_TIMEOUT"] + 10,
)
def deliver_webhook(delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)
