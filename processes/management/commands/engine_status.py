"""What the engine is doing: instances per status, due and stuck jobs, workers seen."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from processes.models import Job, ProcessInstance, WorkerHeartbeat
from processes.statuses import InstanceStatus, JobStatus


class Command(BaseCommand):
    help = "Print counts of instances per status, due and stuck jobs, and the workers seen."

    def handle(self, *args, **options):
        now = timezone.now()
        counts = dict(ProcessInstance.objects.values_list("status").annotate(n=Count("id")))
        self.stdout.write("instances:")
        for status in InstanceStatus.values:
            self.stdout.write(f"  {status:<10} {counts.get(status, 0)}")
        due = Job.objects.filter(status=JobStatus.SCHEDULED, due_at__lte=now).count()
        later = Job.objects.filter(status=JobStatus.SCHEDULED, due_at__gt=now).count()
        running = Job.objects.filter(status=JobStatus.RUNNING).count()
        stuck = Job.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now).count()
        failed = Job.objects.filter(status=JobStatus.FAILED).count()
        self.stdout.write(
            f"jobs: {due} due, {later} waiting for their retry, {running} running "
            f"({stuck} with an expired lease), {failed} failed"
        )
        recent = WorkerHeartbeat.objects.filter(last_seen__gte=now - timedelta(minutes=1))
        self.stdout.write(f"workers seen in the last minute: {recent.count()}")
        for worker in recent.order_by("hostname"):
            age = (now - worker.last_seen).total_seconds()
            self.stdout.write(f"  {worker.hostname} (last seen {age:.0f}s ago)")
