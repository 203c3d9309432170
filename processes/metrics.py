"""Prometheus metrics at GET /metrics.

Events (a step finished, a job retried, a task completed) are counted by the process where
they happen, a worker or the web server. With PROMETHEUS_MULTIPROC_DIR set (make run, the
Procfile) every process writes its figures there and /metrics adds up all of them, so the
numbers are right with several web and worker processes on the host. State (instances per
status, jobs due) is read from the database when scraped, right wherever things run.
"""

from __future__ import annotations

import os

from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from processes.models import Job, OutboxEvent, ProcessInstance, Timer
from processes.statuses import InstanceStatus, JobStatus, TimerStatus

STEPS = Counter("workflow_steps", "Steps finished, by step type and outcome", ["type", "outcome"])
STEP_DURATION = Histogram(
    "workflow_step_duration_seconds",
    "How long a step ran (service: the service call; user: creation to completion)",
    ["type"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400, float("inf")),
)
TASK_COMPLETION = Histogram(
    "workflow_task_completion_seconds",
    "Human tasks: from creation to completion",
    buckets=(60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, float("inf")),
)
JOB_RETRIES = Counter("workflow_job_retries", "Service-step attempts scheduled again")
MESSAGES = Counter(
    "workflow_messages",
    "Messages sent to Flowdesk, by what became of them",
    ["outcome"],  # delivered, buffered, started (by a trigger), refused
)
TIMER_LAG = Histogram(
    "workflow_timer_lag_seconds",
    "Timers the engine fired: fired minus due (the sweep interval, a backlog, a suspension)",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400, float("inf")),
)

INSTANCES_PURGED = Counter(
    "workflow_instances_purged",
    "Finished instances deleted with all their rows (children included), by what purged them",
    ["by"],  # operator (an explicit purge), retention (the periodic job)
)

EVENTS_PUBLISHED = Counter(
    "workflow_events_published",
    "Lifecycle events the outbox relay published to the event bus (acked by RabbitMQ)",
)


def record_events_published(*, count: int) -> None:
    EVENTS_PUBLISHED.inc(count)


def record_service_step(*, outcome: str, seconds: float) -> None:
    STEPS.labels(type="service", outcome=outcome).inc()
    STEP_DURATION.labels(type="service").observe(seconds)
    if outcome == "retried":
        JOB_RETRIES.inc()


def record_message(*, outcome: str) -> None:
    MESSAGES.labels(outcome=outcome).inc()


def record_instances_purged(*, count: int, by: str) -> None:
    INSTANCES_PURGED.labels(by=by).inc(count)


def record_timer_fired(*, lag_seconds: float) -> None:
    TIMER_LAG.observe(lag_seconds)


def record_user_step(*, seconds: float) -> None:
    STEPS.labels(type="user", outcome="completed").inc()
    STEP_DURATION.labels(type="user").observe(seconds)
    TASK_COMPLETION.observe(seconds)


class EngineStateCollector:
    """Instance, job and timer figures read from the database at scrape time."""

    def collect(self):
        by_status = GaugeMetricFamily(
            "workflow_instances_total",
            "Process instances by definition and status",
            labels=["definition", "status"],
        )
        rows = ProcessInstance.objects.values_list("definition__key", "status").annotate(
            n=Count("id")
        )
        active = 0
        for key, status, count in rows:
            by_status.add_metric([key, status], count)
            if status in (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED):
                active += count
        yield by_status
        yield GaugeMetricFamily(
            "workflow_instances_active", "Instances running or suspended", value=active
        )
        now = timezone.now()
        due = Job.objects.filter(status=JobStatus.SCHEDULED, due_at__lte=now).count()
        yield GaugeMetricFamily(
            "workflow_jobs_due", "Service-step jobs due and not yet taken", value=due
        )
        # Of running instances: a suspended one's timers wait for the resume on purpose.
        timers_due = Timer.objects.filter(
            status=TimerStatus.SCHEDULED, due_at__lte=now, instance__status=InstanceStatus.RUNNING
        ).count()
        yield GaugeMetricFamily(
            "workflow_timers_due",
            "Timers of running instances past their due time and not fired yet",
            value=timers_due,
        )
        yield GaugeMetricFamily(
            "workflow_outbox_pending",
            "Lifecycle events in the outbox not yet relayed to the bus and the webhooks",
            value=OutboxEvent.objects.filter(relayed_at__isnull=True).count(),
        )


_ENGINE_STATE = CollectorRegistry()
_ENGINE_STATE.register(EngineStateCollector())


@require_GET
def metrics(request):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    body = generate_latest(processes) + generate_latest(_ENGINE_STATE)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
