"""Celery tasks: they carry job ids and call the services, nothing more."""

from celery import shared_task

from processes.services import job_run, jobs_sweep
from processes.services.dispatch import RUN_JOB_TASK


@shared_task(name=RUN_JOB_TASK, ignore_result=True)
def run_job(job_id: int) -> None:
    job_run(job_id=job_id)


@shared_task(name="flowdesk.sweep_jobs", ignore_result=True)
def sweep_jobs() -> None:
    jobs_sweep()
