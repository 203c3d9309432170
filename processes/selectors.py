"""The read API of the engine: querysets for history, instances and their current steps."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KT

from accounts.permissions import can_control_instances, can_see_all_instances, can_start, require
from processes.errors import InvalidInput, NotFound
from processes.models import (
    INSTANCE_ID_PATTERN,
    DefinitionVersion,
    Event,
    Job,
    Loop,
    MigrationBatch,
    ProcessDefinition,
    ProcessInstance,
    Rollout,
    Timer,
    Token,
)
from processes.statuses import InstanceStatus, JobStatus, TokenStatus
from processes.storable import text_problem


def instance_history(*, instance: ProcessInstance) -> QuerySet[Event]:
    """The events of `instance` in the order they happened."""
    return Event.objects.filter(instance=instance).select_related("actor").order_by("id")


def instance_current_steps(*, instance: ProcessInstance) -> list[str]:
    """The steps holding a token now (active, waiting at a join, or failed), each once
    (a for-each step holds one token per running item besides its own)."""
    steps = Token.objects.filter(
        instance=instance,
        status__in=(TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED),
    ).values_list("node_id", flat=True)
    return list(dict.fromkeys(steps.order_by("id")))


def instance_loops(*, instance: ProcessInstance) -> QuerySet[Loop]:
    """Its for-each steps, running ones first, then the finished ones, latest first:
    how many items each has, started and done."""
    running = ExpressionWrapper(Q(token__status=TokenStatus.ACTIVE), BooleanField())
    return (
        Loop.objects.filter(instance=instance)
        .annotate(running=running)
        .select_related("token")
        .order_by("-running", "-id")
        .defer("items", "results")
    )


def instance_children(*, instance: ProcessInstance) -> QuerySet[ProcessInstance]:
    """The instances its subprocess steps started, oldest first."""
    return (
        ProcessInstance.objects.filter(parent=instance)
        .select_related("definition", "definition_version", "parent_token")
        .order_by("created_at", "id")
    )


def instance_timers(*, instance: ProcessInstance) -> QuerySet[Timer]:
    """Every timer of `instance`, scheduled, fired or cancelled, oldest first."""
    return Timer.objects.filter(instance=instance).order_by("id")


def jobs_failed(*, instance: ProcessInstance | None = None) -> QuerySet[Job]:
    """Failed jobs (incidents), newest first."""
    jobs = Job.objects.filter(status=JobStatus.FAILED)
    if instance is not None:
        jobs = jobs.filter(instance=instance)
    return jobs.select_related("instance").order_by("-finished_at")


def instance_incidents(*, instance: ProcessInstance) -> QuerySet[Job]:
    """The failed jobs the instance is stuck on: a failure a `catch` handled is not one."""
    return jobs_failed(instance=instance).filter(token__status=TokenStatus.FAILED)


def definitions_startable_by(*, user: Any) -> QuerySet[ProcessDefinition]:
    """Definitions `user` may start: all with the global permission, else guardian grants."""
    from guardian.shortcuts import get_objects_for_user

    return get_objects_for_user(
        user,
        "processes.start_processdefinition",
        klass=ProcessDefinition,
        accept_global_perms=True,
    ).order_by("key")


def instances_visible_to(*, user: Any) -> QuerySet[ProcessInstance]:
    """Every instance for managers; else those the user started or holds a task in."""

    from tasks.selectors import tasks_involving

    instances = ProcessInstance.objects.all()
    if can_see_all_instances(user):
        return instances
    involved = tasks_involving(user=user).filter(instance=OuterRef("pk"))
    return instances.filter(Q(started_by=user) | Exists(involved))


def instance_get_visible(*, instance_id: str, user: Any) -> ProcessInstance:
    """The instance, or NotFound when it does not exist or `user` may not see it."""
    if not isinstance(instance_id, str) or not re.fullmatch(INSTANCE_ID_PATTERN, instance_id):
        raise NotFound(f"no process instance {instance_id!r}")
    instance = instances_visible_to(user=user).filter(pk=instance_id).first()
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


def definitions_with_counts() -> QuerySet[ProcessDefinition]:
    """Definitions with their latest version number and instance counts, in one query."""
    latest = DefinitionVersion.objects.filter(definition=OuterRef("pk")).order_by("-number")
    return ProcessDefinition.objects.annotate(
        latest_version=Subquery(latest.values("number")[:1]),
        instances_total=Count("instances"),
        instances_running=Count("instances", filter=Q(instances__status=InstanceStatus.RUNNING)),
        instances_failed=Count("instances", filter=Q(instances__status=InstanceStatus.FAILED)),
    )


# --- For the REST API: filtered lists and details, shaped so a page costs a fixed number of
# queries whatever its size.


def definitions_list(
    *, user: Any, key: str | None = None, name: str | None = None
) -> QuerySet[ProcessDefinition]:
    """The definitions `user` may start (all for managers) with their `latest_version`.

    `key` matches exactly, `name` any part, ignoring case.
    """
    definitions = definitions_startable_by(user=user)
    if key is not None:
        definitions = definitions.filter(key=key)
    if name is not None:
        definitions = definitions.filter(name__icontains=name)
    return definitions.annotate(latest_version=Max("versions__number"))


def definition_get_startable(
    *, user: Any, definition_id: Any = None, key: str | None = None
) -> ProcessDefinition:
    """The definition with this id or key, or NotFound: a definition `user` may not start is
    one they cannot see."""
    return _definition_in(definitions_startable_by(user=user), definition_id, key)


def definition_get_visible(
    *, user: Any, definition_id: Any = None, key: str | None = None
) -> ProcessDefinition:
    """The definition with this id or key if `user` may start it or has a case of it (a
    process whose right was taken away stays known to the people working on it), else
    NotFound: a start that is refused says why only to those who know the process."""
    from processes.instance_lists import instance_ids_involving

    definition = _definition_in(ProcessDefinition.objects.all(), definition_id, key)
    if can_start(user, definition) or can_see_all_instances(user):
        return definition
    involved = ProcessInstance.objects.filter(
        definition=definition, pk__in=instance_ids_involving(user=user)
    )
    if not involved.exists():
        raise NotFound(f"no process definition {key or definition_id!r}")
    return definition


def _definition_in(definitions: QuerySet, definition_id: Any, key: str | None):
    if isinstance(key, str) and text_problem(key):
        raise NotFound(f"no process definition {key!r}")
    if key is not None:
        definition = definitions.filter(key=key).first()
    else:
        pk = _as_int(definition_id)
        definition = definitions.filter(pk=pk).first() if pk is not None else None
    if definition is None:
        raise NotFound(f"no process definition {key or definition_id!r}")
    return definition


def definition_starters(*, definition: ProcessDefinition) -> tuple[list, list]:
    """The groups and the users granted the right to start `definition` (by name)."""
    from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

    groups = get_groups_with_perms(definition, attach_perms=True)
    users = get_users_with_perms(definition, attach_perms=True, with_group_users=False)
    start = "start_processdefinition"
    return (
        sorted((g for g, perms in groups.items() if start in perms), key=lambda g: g.name),
        sorted((u for u, perms in users.items() if start in perms), key=lambda u: u.username),
    )


def definition_version_get(
    *, definition: ProcessDefinition, number: Any = None
) -> DefinitionVersion:
    """Version `number` of `definition` (its latest without one), or NotFound; a number
    that is none (0, -1, "abc", taken from a URL) finds nothing."""
    versions = _version_rows(definition)
    if number is None:
        version = versions.first()
    else:
        n = _as_int(number)
        version = versions.filter(number=n).first() if n is not None and n > 0 else None
    if version is None:
        raise NotFound(f"process definition {definition.key!r} has no version {number}")
    return version


def version_numbered(
    *,
    number: Any,
    definition: ProcessDefinition | None = None,
    definition_key: str | None = None,
    field: str = "version",
) -> DefinitionVersion:
    """Version `number` of `definition` (or of the one keyed `definition_key`), as the
    services' callers name versions: InvalidInput naming `field` for anything but a whole
    number from 1, NotFound when there is no such version."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput(
            f"{field} is a version's number (1, 2, ...)",
            field_errors={field: ["a version number from 1"]},
        )
    where = {"definition": definition} if definition else {"definition__key": definition_key}
    version = (
        DefinitionVersion.objects.filter(number=number, **where)
        .select_related("definition")
        .first()
    )
    if version is None:
        key = definition.key if definition else definition_key
        raise NotFound(f"no version {number} of process definition {key!r}")
    return version


def definition_versions(*, definition: ProcessDefinition) -> QuerySet[DefinitionVersion]:
    """Every version of `definition`, newest first, with their `version_label` and how many
    instances run each (`instances_running`: running or suspended; `instances_total`), but
    without their source and graph. A map step's items are part of their instance, not
    counted."""
    live = (InstanceStatus.PENDING, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
    own = Q(instances__scope="")
    return (
        _version_rows(definition)
        .annotate(
            version_label=KT("graph__version_label"),
            instances_total=Count("instances", filter=own),
            instances_running=Count("instances", filter=own & Q(instances__status__in=live)),
        )
        .defer("source", "graph")
    )


def migration_batch_get(
    *, definition: ProcessDefinition, batch_id: Any, user: Any
) -> MigrationBatch:
    """A migration batch of `definition` with its outcomes; NotAllowed unless `user` may
    migrate (managers, admins), NotFound for an id that is no batch of it."""
    require(user, can_control_instances, "only managers and admins see migrations")
    batch = (
        MigrationBatch.objects.filter(definition=definition, pk=_as_int(batch_id))
        .select_related("from_version", "to_version", "created_by")
        .prefetch_related("outcomes")
        .first()
    )
    if batch is None:
        raise NotFound(f"no migration batch {batch_id!r} of {definition.key!r}")
    return batch


def definition_rollouts(*, definition: ProcessDefinition) -> QuerySet[Rollout]:
    """Its rollouts, the latest first."""
    return (
        Rollout.objects.filter(definition=definition)
        .select_related("version", "previous", "created_by")
        .order_by("-id")
    )


def definition_start_shares(*, definition: ProcessDefinition) -> dict[int, int]:
    """Which share (percent) of new starts by key each version gets, by version id: a
    running rollout's split, else all to the pinned default or the latest."""
    rollout = definition.rollout
    if rollout is not None:
        return {rollout.version_id: rollout.percent, rollout.previous_id: 100 - rollout.percent}
    default = definition.default_version_id or (
        definition.versions.order_by("-number").values_list("pk", flat=True).first()
    )
    return {default: 100} if default is not None else {}


def _version_rows(definition: ProcessDefinition) -> QuerySet[DefinitionVersion]:
    return (
        DefinitionVersion.objects.filter(definition=definition)
        .select_related("definition", "published_by")
        .order_by("-number")
    )


def instances_list(
    *,
    user: Any,
    status: str | None = None,
    business_key: str | None = None,
    process_definition_key: str | None = None,
    started_by: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[ProcessInstance]:
    """Instances `user` may see, newest first, without their variables.

    `started_by` is a username; `created_after` is inclusive, `created_before` exclusive.
    """
    lookups = {
        "status": status,
        "business_key": business_key,
        "definition__key": process_definition_key,
        "started_by__username": started_by,
        "created_at__gte": created_after,
        "created_at__lt": created_before,
    }
    instances = instances_visible_to(user=user).filter(
        **{lookup: value for lookup, value in lookups.items() if value is not None}
    )
    return _instance_rows(instances).defer("variables").order_by("-created_at", "-id")


def instance_get_detail(*, instance_id: str, user: Any) -> ProcessInstance:
    """The instance with its definition, version number and starter, or NotFound when it does
    not exist or `user` may not see it."""
    instance = None
    # A string that cannot be an id (NUL, 200 characters...) never reaches the database.
    if isinstance(instance_id, str) and re.fullmatch(INSTANCE_ID_PATTERN, instance_id):
        instance = _instance_rows(instances_visible_to(user=user)).filter(pk=instance_id).first()
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


def wait_owner_get(
    *, model: type[Model], wait_id: Any, instance_id: str | None, user: Any, what: str
) -> tuple[int, str]:
    """The id and instance of a wait named by URL (a Timer, a Subscription). NotFound when
    there is none, it is not instance `instance_id`'s (when given), or `user` may not see
    its instance: ids cannot be probed."""
    pk = _as_int(wait_id)
    owner = None
    if pk is not None:
        owner = model.objects.filter(pk=pk).values_list("instance_id", flat=True).first()
    if (
        owner is None
        or (instance_id is not None and owner != instance_id)
        or (user is not None and not instances_visible_to(user=user).filter(pk=owner).exists())
    ):
        where = f" in instance {instance_id!r}" if instance_id else ""
        raise NotFound(f"no {what} {wait_id!r}{where}")
    return pk, owner


def _instance_rows(instances: QuerySet[ProcessInstance]) -> QuerySet[ProcessInstance]:
    return instances.select_related("definition", "started_by").annotate(
        version=F("definition_version__number")
    )


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
