"""Migrating many instances: a batch row, worked through in chunks by a Celery job.

`instances_migrate` checks the caller and the versions, resolves which instances go (the
ones named, or every running and failed instance of `from_version`), stores them on a
`MigrationBatch` and sends its job once committed. The job (`migration_batch_run`) takes the
batch's lease, migrates the next chunk — each instance in its own transaction together
with its `MigrationOutcome`, so an instance is migrated and recorded once — and sends itself
again until none is left. One instance's refusal or error is its outcome; the rest go on.
If the job's message is lost or its worker dies, the lease runs out and the sweeper sends
the batch again (`migration_batches_resume`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.permissions import can_control_instances, require
from processes.errors import FlowdeskError, InvalidInput, NotFound
from processes.models import (
    DefinitionVersion,
    MigrationBatch,
    MigrationOutcome,
    ProcessDefinition,
    ProcessInstance,
)
from processes.selectors import version_numbered
from processes.services.instance_migration import MIGRATABLE, instance_migrate, mapping_checked

logger = logging.getLogger(__name__)

CHUNK = 100
LEASE_SECONDS = 120
MIGRATE_BATCH_TASK = "flowdesk.migrate_batch"
MAX_INSTANCE_IDS = 100_000


def instances_migrate(
    *,
    definition_key: str,
    from_version: int,
    to_version: int,
    mapping: dict[str, str] | None = None,
    instance_ids: list[str] | None = None,
    dry_run: bool = False,
    user: Any = None,
) -> int:
    """Start migrating the running and failed instances of version `from_version` (or only
    `instance_ids`) to `to_version`; the id of the batch, whose progress and outcomes its
    row holds. NotAllowed for a user who may not migrate, NotFound for an unknown key or
    version, InvalidInput for a malformed mapping or list of ids."""
    require(user, can_control_instances, "only managers and admins may migrate processes")
    definition = ProcessDefinition.objects.filter(key=definition_key).first()
    if definition is None:
        raise NotFound(f"no process definition with key {definition_key!r}")
    source = version_numbered(definition=definition, number=from_version, field="from_version")
    target = version_numbered(definition=definition, number=to_version, field="to_version")
    mapping = mapping_checked(mapping)
    ids = _instance_ids(source, instance_ids)
    with transaction.atomic():
        batch = MigrationBatch.objects.create(
            definition=definition,
            from_version=source,
            to_version=target,
            mapping=mapping,
            instance_ids=ids,
            dry_run=dry_run,
            total=len(ids),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _send_on_commit(batch.pk)
    return batch.pk


def migration_batch_run(*, batch_id: int) -> int:
    """The batch's job: migrate its next chunk under its lease, then send itself again
    while instances are left. How many instances this run took."""
    now = timezone.now()
    leased = MigrationBatch.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=batch_id,
        status__in=(MigrationBatch.Status.PENDING, MigrationBatch.Status.RUNNING),
    ).update(
        status=MigrationBatch.Status.RUNNING, lease_until=now + timedelta(seconds=LEASE_SECONDS)
    )
    if not leased:
        return 0  # done, gone, or another worker holds it
    batch = MigrationBatch.objects.select_related("to_version", "created_by").get(pk=batch_id)
    seen = set(batch.outcomes.values_list("instance_id", flat=True))
    pending = [i for i in batch.instance_ids if i not in seen]
    for instance_id in pending[:CHUNK]:
        _migrate_one(batch, instance_id)
    left = len(pending) > CHUNK
    changes: dict[str, Any] = {"lease_until": None}
    if not left:
        changes |= {"status": MigrationBatch.Status.DONE, "finished_at": timezone.now()}
    with transaction.atomic():
        MigrationBatch.objects.filter(pk=batch_id).update(**changes)
        if left:
            _send_on_commit(batch_id)
    return min(len(pending), CHUNK)


def migration_batches_resume() -> int:
    """The sweeper's part: send again the batches left unfinished whose lease ran out (a
    lost message, a dead worker) or that never started. How many it sent."""
    stale = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    waiting = MigrationBatch.objects.filter(
        Q(status=MigrationBatch.Status.RUNNING, lease_until__lt=timezone.now())
        | Q(status=MigrationBatch.Status.PENDING, created_at__lt=stale)
    ).values_list("pk", flat=True)[:100]
    batches = list(waiting)
    for batch_id in batches:
        _send_now(batch_id)
    return len(batches)


def _migrate_one(batch: MigrationBatch, instance_id: str) -> None:
    """One instance, in one transaction with its outcome: migrated and recorded once."""
    try:
        with transaction.atomic():
            report = _report(batch, instance_id)
            MigrationOutcome.objects.create(
                batch=batch, instance_id=instance_id, ok=report["ok"], report=report
            )
            counter = "migrated" if report["ok"] else "refused"
            MigrationBatch.objects.filter(pk=batch.pk).update(**{counter: F(counter) + 1})
    except IntegrityError:
        return  # another run of the batch recorded it: its migration stands, this one not
    except Exception as exc:  # one instance's trouble must not stop the rest
        logger.exception("migrating instance %s in batch %s failed", instance_id, batch.pk)
        _record_error(batch, instance_id, f"{type(exc).__name__}: {exc}")


def _report(batch: MigrationBatch, instance_id: str) -> dict[str, Any]:
    instance = ProcessInstance.objects.filter(pk=instance_id).first()
    refused = {"instance_id": instance_id, "ok": False, "moves": {}, "dry_run": batch.dry_run}
    if instance is None or instance.definition_id != batch.definition_id:
        return {**refused, "problems": [{"step": "", "problem": "no such instance of it"}]}
    if instance.definition_version_id != batch.from_version_id:
        return {
            **refused,
            "problems": [{"step": "", "problem": "it runs another version than the batch's"}],
        }
    try:
        report = instance_migrate(
            instance=instance,
            to_version=batch.to_version.number,
            mapping=batch.mapping,
            dry_run=batch.dry_run,
            user=batch.created_by,
        )
    except FlowdeskError as exc:
        return {**refused, "problems": [{"step": "", "problem": exc.message}]}
    return report.as_dict()


def _record_error(batch: MigrationBatch, instance_id: str, message: str) -> None:
    problems = [{"step": "", "problem": f"could not be migrated: {message}"}]
    try:
        with transaction.atomic():
            MigrationOutcome.objects.create(
                batch=batch,
                instance_id=instance_id,
                ok=False,
                report={"instance_id": instance_id, "ok": False, "problems": problems},
            )
            MigrationBatch.objects.filter(pk=batch.pk).update(refused=F("refused") + 1)
    except IntegrityError:
        pass


def _instance_ids(source: DefinitionVersion, instance_ids: Any) -> list[str]:
    if instance_ids is None:
        rows = ProcessInstance.objects.filter(
            definition_version=source, status__in=MIGRATABLE, scope=""
        ).order_by("created_at", "pk")
        return list(rows.values_list("pk", flat=True)[:MAX_INSTANCE_IDS])
    if (
        not isinstance(instance_ids, list)
        or not all(isinstance(i, str) and i for i in instance_ids)
        or len(instance_ids) > MAX_INSTANCE_IDS
    ):
        raise InvalidInput(
            f"instance_ids must be a list of at most {MAX_INSTANCE_IDS:,} instance ids",
            field_errors={"instance_ids": ["a list of instance ids"]},
        )
    return list(dict.fromkeys(instance_ids))


def _send_on_commit(batch_id: int) -> None:
    transaction.on_commit(lambda: _send_now(batch_id), robust=True)


def _send_now(batch_id: int) -> None:
    try:
        current_app.send_task(MIGRATE_BATCH_TASK, args=(batch_id,))
    except Exception:  # noqa: BLE001 - the row is committed; the sweeper sends it again
        logger.warning("could not send migration batch %s; the sweeper will", batch_id)
