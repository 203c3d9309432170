"""Purge the finished instances past their retention now (what beat's flowdesk.purge_expired
does every FLOWDESK_PURGE_INTERVAL seconds), or count them with --dry-run."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from processes.services.purge import instances_expired, instances_purge_expired


class Command(BaseCommand):
    help = (
        "Delete the finished instances older than their definition's retention (else "
        "FLOWDESK_DEFAULT_RETENTION), with their children and history, and expired messages."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="top-level instances per transaction (default FLOWDESK_PURGE_BATCH, 1000)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the top-level instances to purge"
        )

    def handle(self, *args, batch: int | None, dry_run: bool, **options) -> None:
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1")
        if dry_run:
            expired = instances_expired(now=timezone.now())
            count = expired.count() if expired is not None else 0
            self.stdout.write(f"{count} finished instances are past their retention")
            return
        report = instances_purge_expired(batch_size=batch)
        self.stdout.write(
            f"purged {report.instances} instances in {report.batches} batches "
            f"(the longest {report.longest_batch_seconds:.2f} s), "
            f"and {report.messages} expired messages"
        )
