"""Purging finished instances: an operator's purge of one, and the retention job.

An instance goes with everything that belongs to it: its tokens, for-each loops, jobs,
timers, subscriptions, tasks (and their candidate lists), its history, the messages
delivered to it, and its children (the whole tree below it, all finished). The rows go in
a few set-based DELETEs per batch, never through Django's collector (which loads each row).

Only finished instances (completed, failed, cancelled) are touched, and each is locked
FOR UPDATE before its rows go, after its status is read again under the lock: an operator
retrying a failed instance at the same moment either holds its lock first (the purge skips
it, or waits and then finds it running) or finds it gone. An instance is purged entirely
or not at all, and a running instance's row is never locked.

The retention job also deletes buffered messages whose ttl passed (nothing can take them
any more).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import router, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.permissions import can_control_instances, require
from processes.dsl.durations import parse_duration
from processes.errors import Conflict, NotFound
from processes.metrics import record_instances_purged
from processes.models import (
    DefinitionVersion,
    Event,
    Job,
    Loop,
    Message,
    ProcessInstance,
    Subscription,
    Timer,
    Token,
)
from processes.settings import engine_setting
from processes.statuses import InstanceStatus, MessageStatus
from tasks.models import Task

FINISHED = (InstanceStatus.COMPLETED, InstanceStatus.FAILED, InstanceStatus.CANCELLED)

logger = logging.getLogger("flowdesk.events")


@dataclass(frozen=True)
class PurgeReport:
    instances: int  # deleted, children included
    messages: int  # expired buffered messages deleted
    batches: int  # transactions that deleted instances
    longest_batch_seconds: float = 0.0  # the longest of them, its commit included


def instance_purge(*, instance: ProcessInstance, user: Any = None) -> int:
    """Delete the finished `instance`, its children (all finished) and every row of theirs;
    returns how many instances went (it and its descendants).

    Locks the instance row FOR UPDATE, then its descendants' level by level (parent then
    child, the engine's order); a descendant is locked only once read as finished, and
    its status is checked again under the lock. NotAllowed unless `user` may control
    instances; NotFound when it is gone; Conflict when it is not finished, when a
    descendant is not (named), or when it is a child (its parent's purge takes it).
    """
    require(user, can_control_instances, "only managers and admins may purge a process")
    with transaction.atomic():
        row = (
            ProcessInstance.objects.filter(pk=instance.pk)
            .select_for_update()
            .values_list("status", "parent_id")
            .first()
        )
        if row is None:
            raise NotFound(f"no process instance {instance.pk!r}")
        status, parent_id = row
        if status not in FINISHED:
            raise Conflict(f"cannot purge an instance that is {status}: only a finished one")
        if parent_id is not None:
            raise Conflict(
                f"instance {instance.pk} was started by instance {parent_id}: purge that one, "
                "its children go with it"
            )
        tree, blocked = _trees_lock([instance.pk], skip_locked=False)
        if blocked:
            child = blocked[instance.pk]
            raise Conflict(f"cannot purge it: its child instance {child} is not finished")
        deleted = _instances_delete(list(tree))
        transaction.on_commit(lambda: _purged(deleted, by="operator", user=user, root=instance.pk))
    return deleted


def instances_purge_expired(
    *, batch_size: int | None = None, now: datetime | None = None
) -> PurgeReport:
    """Delete the finished instances older than their retention, `batch_size` top-level
    instances (with their children) per transaction, and the expired buffered messages.

    An instance's retention is its own definition version's (`retention`), else
    FLOWDESK_DEFAULT_RETENTION, else it is kept forever; its age counts from when it ended
    (a failed one: from its last change). Children go with their top-level instance,
    whatever their own definition says.

    Each batch locks its top-level instances FOR UPDATE SKIP LOCKED, selected by their
    finished status (so a running instance is never locked, and one an operator is acting
    on is left for the next run), then their finished descendants likewise; a tree with a
    descendant that is not finished, or locked by someone else, is left whole.
    """
    batch_size = batch_size or engine_setting("PURGE_BATCH")
    now = now or timezone.now()
    expired = instances_expired(now=now)
    deleted, batches, longest = 0, 0, 0.0
    left: set[str] = set()  # trees a busy or unfinished descendant holds back this run
    while expired is not None:
        began = time.perf_counter()
        with transaction.atomic():
            roots = list(
                expired.exclude(pk__in=left)
                .order_by("finished")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            tree, blocked = _trees_lock(roots, skip_locked=True)
            left.update(blocked)
            count = _instances_delete([pk for pk, root in tree.items() if root not in blocked])
            if count:
                transaction.on_commit(lambda count=count: _purged(count, by="retention"))
        deleted += count
        if count:
            batches += 1
            longest = max(longest, time.perf_counter() - began)
        if len(roots) < batch_size:
            break
    messages = messages_purge_expired(batch_size=batch_size, now=now)
    return PurgeReport(
        instances=deleted, messages=messages, batches=batches, longest_batch_seconds=longest
    )


def instances_expired(*, now: datetime) -> QuerySet[ProcessInstance] | None:
    """The finished top-level instances past their retention at `now`, annotated with
    `finished` (when they ended); None when no definition and no default lets any expire."""
    default = default_retention()
    by_retention: dict[float, list[int]] = {}
    for version_id, retention in DefinitionVersion.objects.values_list("pk", "graph__retention"):
        if retention is not None:
            by_retention.setdefault(float(retention), []).append(version_id)
    expiring = Q()
    for seconds, version_ids in by_retention.items():
        expiring |= Q(definition_version_id__in=version_ids, finished__lt=_before(now, seconds))
    if default is not None:
        own = [version_id for ids in by_retention.values() for version_id in ids]
        expiring |= Q(finished__lt=_before(now, default)) & ~Q(definition_version_id__in=own)
    if not expiring:
        return None
    return (
        ProcessInstance.objects.annotate(finished=F("ended_at"))
        .filter(status__in=FINISHED, parent__isnull=True)
        .filter(expiring)
    )


def default_retention() -> float | None:
    """FLOWDESK_DEFAULT_RETENTION in seconds; None (unset): kept forever."""
    value = engine_setting("DEFAULT_RETENTION")
    if value in (None, ""):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"FLOWDESK_DEFAULT_RETENTION: {error}") from None
    if seconds == 0:
        raise ImproperlyConfigured("FLOWDESK_DEFAULT_RETENTION must be longer than zero")
    return seconds


def messages_purge_expired(*, batch_size: int, now: datetime) -> int:
    """Delete buffered messages whose ttl passed (marked expired or not yet): no subscription
    can take them any more. Locks them SKIP LOCKED, `batch_size` per transaction."""
    expired = Message.objects.filter(
        Q(status=MessageStatus.EXPIRED) | Q(status=MessageStatus.BUFFERED, expires_at__lte=now)
    )
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                expired.select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
                .order_by("pk")[:batch_size]
            )
            deleted += _raw_delete(Message.objects.filter(pk__in=ids)) if ids else 0
        if len(ids) < batch_size:
            return deleted


def _before(now: datetime, seconds: float) -> datetime:
    try:
        return now - timedelta(seconds=seconds)
    except OverflowError:  # a retention of a million years: nothing is that old
        return datetime.min.replace(tzinfo=now.tzinfo)


def _trees_lock(
    roots: Iterable[str], *, skip_locked: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Lock the finished descendants of `roots` (locked by the caller), level by level.

    Returns the instances of the trees, roots included, each mapped to its root; and the
    roots held back, each mapped to a descendant that is not finished (or, `skip_locked`,
    is locked by another transaction): such a descendant is never locked here.
    """
    root_of = {root: root for root in roots}
    blocked: dict[str, str] = {}
    level = list(root_of)
    while level:
        children = list(
            ProcessInstance.objects.filter(parent_id__in=level).values_list("pk", "parent_id")
        )
        if not children:
            break
        # The WHERE is checked again on each row once locked: a child that started running
        # meanwhile is not taken.
        locked = set(
            ProcessInstance.objects.filter(pk__in=[pk for pk, _ in children], status__in=FINISHED)
            .select_for_update(skip_locked=skip_locked)
            .values_list("pk", flat=True)
        )
        level = []
        for pk, parent_id in children:
            root = root_of[parent_id]
            if pk in locked:
                root_of[pk] = root
                level.append(pk)
            else:
                blocked.setdefault(root, pk)
    return root_of, blocked


def _instances_delete(ids: list[str]) -> int:
    """Delete instances `ids` (locked, whole trees) and every row that belongs to them;
    returns how many instances went. The foreign keys are checked at commit, so the order
    only keeps it readable: what points at a row goes before it."""
    if not ids:
        return 0
    tasks = Task.objects.filter(instance_id__in=ids)
    _raw_delete(Task.candidate_users.through.objects.filter(task__in=tasks.values("pk")))
    _raw_delete(Task.candidate_groups.through.objects.filter(task__in=tasks.values("pk")))
    for model in (Task, Job, Timer, Subscription, Event, Loop, Token):
        _raw_delete(model.objects.filter(instance_id__in=ids))
    # What was delivered to it is part of its case; leaving the rows would keep its data.
    _raw_delete(Message.objects.filter(instance_id__in=ids))
    return _raw_delete(ProcessInstance.objects.filter(pk__in=ids))


def _raw_delete(queryset: QuerySet) -> int:
    """One DELETE statement, without the collector's cascade (the callers delete what
    points at the rows themselves) and without signals (none are connected to these)."""
    return queryset._raw_delete(router.db_for_write(queryset.model))


def _purged(count: int, *, by: str, user: Any = None, root: str | None = None) -> None:
    record_instances_purged(count=count, by=by)
    who = getattr(user, "username", None) or "flowdesk"
    if root is not None:
        logger.info(
            "INSTANCE_PURGED %s by %s (%d instances with its children)",
            root,
            who,
            count,
            extra={"event": "INSTANCE_PURGED", "instance_id": root, "by": who, "count": count},
        )
    else:
        logger.info(
            "INSTANCES_PURGED %d past their retention",
            count,
            extra={"event": "INSTANCES_PURGED", "by": "retention", "count": count},
        )
