"""The cases page's reads: the instances a person may see, searched, filtered, a page at a time.

Built for a million instances. A page is found by keyset (`created_at`, `id`) rather than by
offset, so the hundredth page costs what the first does; the number of cases is counted up to
`COUNT_CAP` only, since an exact `COUNT(*)` of a million rows costs more than the whole page
(bench/instances_list.py measures both). A page costs the same queries whatever its size:
the rows, then their starters, current tokens and open tasks (with assignees and
candidates) for the page's rows only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.permissions import can_see_all_instances
from processes.display import step_label
from processes.models import (
    INSTANCE_ID_PATTERN,
    ProcessDefinition,
    ProcessInstance,
    Token,
    graphs_of_versions,
)
from processes.statuses import TaskState, TokenStatus
from tasks.models import Task

PAGE_SIZE = 25
COUNT_CAP = 1000
# "Show" filter: the cases a person started, or those with a task waiting for them.
STARTED, WAITING = "started", "waiting"
CURRENT_TOKENS = (TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED)
OPEN_TASKS = (TaskState.OPEN, TaskState.ASSIGNED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR = re.compile(r"^(\d{1,20})~(.+)$")

Cursor = tuple[datetime, str]


@dataclass(frozen=True)
class CaseRow:
    instance: ProcessInstance
    steps: list[str]  # the current steps' names
    holders: list[str]  # who has its open tasks
    waiting_for: list[str]  # the candidates of its open tasks nobody has taken


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int  # counted up to COUNT_CAP + 1
    newer: str | None  # the cursor of the page before (newer cases), if any
    older: str | None  # the cursor of the page after (older cases), if any

    @property
    def more_than_cap(self) -> bool:
        return self.total > COUNT_CAP


def page_cursor(instance: ProcessInstance) -> str:
    """Where a page starts or ends: the instance's start (exact microseconds) and its id."""
    return f"{(instance.created_at - EPOCH) // timedelta(microseconds=1)}~{instance.pk}"


def cursor_parse(text: str) -> Cursor:
    """The cursor `page_cursor` wrote; ValueError when `text` is not one."""
    match = CURSOR.fullmatch(text)
    if match is None or not re.fullmatch(INSTANCE_ID_PATTERN, match[2]):
        raise ValueError(f"{text!r} is not a page position")
    try:
        return EPOCH + timedelta(microseconds=int(match[1])), match[2]
    except OverflowError:
        raise ValueError(f"{text!r} is not a page position") from None


def instance_ids_involving(*, user: Any) -> QuerySet:
    """The ids of the instances `user` started or has a task in (assigned, completed, or a
    candidate, by name or group): `instances_visible_to` for a person who is not a manager.

    A UNION ALL of index lookups, each cheap however many instances there are; the same test
    written as `started_by = me OR EXISTS (...)` makes PostgreSQL check every instance.
    """
    started = ProcessInstance.objects.filter(started_by=user)
    worked = Task.objects.filter(Q(assignee=user) | Q(completed_by=user))
    named = Task.candidate_users.through.objects.filter(user_id=user.pk)
    in_group = Task.candidate_groups.through.objects.filter(group_id__in=_group_ids(user))
    return _ids_union(
        started.values("pk"),
        worked.values("instance_id"),
        named.values("task__instance_id"),
        in_group.values("task__instance_id"),
    )


def instance_ids_waiting_on(*, user: Any) -> QuerySet:
    """The ids of the instances with a task assigned to `user` or open for them to claim."""
    assigned = Task.objects.filter(assignee=user, state=TaskState.ASSIGNED)
    named = Task.candidate_users.through.objects.filter(user_id=user.pk, task__state=TaskState.OPEN)
    in_group = Task.candidate_groups.through.objects.filter(
        group_id__in=_group_ids(user), task__state=TaskState.OPEN
    )
    return _ids_union(
        assigned.values("instance_id"),
        named.values("task__instance_id"),
        in_group.values("task__instance_id"),
    )


def case_definitions(*, user: Any) -> QuerySet[ProcessDefinition]:
    """The processes `user` has cases of: the choices of the page's process filter."""
    definitions = ProcessDefinition.objects.only("name").order_by("name")
    if can_see_all_instances(user):
        return definitions
    mine = ProcessInstance.objects.filter(pk__in=instance_ids_involving(user=user))
    return definitions.filter(pk__in=mine.values("definition_id"))


def case_page(
    *,
    user: Any,
    search: str = "",
    status: str | None = None,
    definition_id: int | None = None,
    show: str = "",
    older: Cursor | None = None,
    newer: Cursor | None = None,
) -> CasePage:
    """One page of the cases `user` may see, newest first.

    `search` matches part of the business key or of the process name, ignoring case; `show`
    keeps the cases `user` started (STARTED) or that wait on them (WAITING). `older` gives
    the page after that cursor, `newer` the page before it.
    """
    cases = _visible(user)
    if status:
        cases = cases.filter(status=status)
    if definition_id is not None:
        cases = cases.filter(definition_id=definition_id)
    if show == STARTED:
        cases = cases.filter(started_by=user)
    elif show == WAITING:
        cases = cases.filter(pk__in=instance_ids_waiting_on(user=user))
    if search:
        # The processes named so, as ids: PostgreSQL then ORs two index scans (business key
        # trigrams, definition) where a subquery would make it test every instance.
        named = list(
            ProcessDefinition.objects.filter(name__icontains=search).values_list("pk", flat=True)
        )
        cases = cases.filter(Q(business_key__icontains=search) | Q(definition_id__in=named))
    total = cases.order_by()[: COUNT_CAP + 1].count()

    rows = _page_rows(cases, older=older, newer=newer)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if newer is not None:
        rows.reverse()
    has_newer = older is not None or (newer is not None and more)
    has_older = newer is not None or more
    _prefetch_current(rows)
    return CasePage(
        rows=_case_rows(rows),
        total=total,
        newer=page_cursor(rows[0]) if rows and has_newer else None,
        older=page_cursor(rows[-1]) if rows and has_older else None,
    )


def _visible(user: Any) -> QuerySet[ProcessInstance]:
    instances = ProcessInstance.objects.all()
    if can_see_all_instances(user):
        return instances
    return instances.filter(pk__in=instance_ids_involving(user=user))


def _ids_union(first: QuerySet, *others: QuerySet) -> QuerySet:
    # Without their models' default ordering: each part would be sorted for nothing.
    return first.order_by().union(*(ids.order_by() for ids in others), all=True)


def _group_ids(user: Any) -> QuerySet:
    return get_user_model().groups.through.objects.filter(user_id=user.pk).values("group_id")


def _page_rows(
    cases: QuerySet[ProcessInstance], *, older: Cursor | None, newer: Cursor | None
) -> list[ProcessInstance]:
    """PAGE_SIZE + 1 rows after `older` (newest first) or before `newer` (oldest first)."""
    order = ("-created_at", "-pk")
    if older is not None:
        at, pk = older
        # `created_at <= at` repeats what the OR implies, so the index on created_at is used.
        cases = cases.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk), created_at__lte=at)
    elif newer is not None:
        at, pk = newer
        cases = cases.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk), created_at__gte=at)
        order = ("created_at", "pk")
    rows = (
        cases.select_related("definition")
        .only(
            "business_key",
            "status",
            "created_at",
            "definition_version_id",
            "scope",
            "started_by_id",
            "definition__name",
        )
        .order_by(*order)
    )
    return list(rows[: PAGE_SIZE + 1])


def _prefetch_current(rows: list[ProcessInstance]) -> None:
    """The page's starters, current tokens and open tasks, with who holds or may take each
    task. Starters by id, not joined to the rows: with a person's cases PostgreSQL expects
    one row and would read every user for each."""
    people = get_user_model().objects.only("username")
    tasks = (
        Task.objects.filter(state__in=OPEN_TASKS)
        .select_related("assignee")
        .only("instance_id", "state", "assignee__username")
        .prefetch_related(Prefetch("candidate_users", queryset=people), "candidate_groups")
        .order_by("created_at", "pk")
    )
    tokens = Token.objects.filter(status__in=CURRENT_TOKENS).only("instance_id", "node_id")
    prefetch_related_objects(
        rows,
        Prefetch("started_by", queryset=people),
        Prefetch("tokens", queryset=tokens.order_by("pk"), to_attr="current_tokens"),
        Prefetch("tasks", queryset=tasks, to_attr="open_tasks"),
    )


def _case_rows(instances: list[ProcessInstance]) -> list[CaseRow]:
    graphs = graphs_of_versions({instance.definition_version_id for instance in instances})
    rows = []
    for instance in instances:
        nodes = graphs[instance.definition_version_id].scope(instance.scope).nodes
        steps = list(dict.fromkeys(token.node_id for token in instance.current_tokens))
        names = [step_label(nodes[step].name if step in nodes else "", step) for step in steps]
        holders, waiting_for = [], []
        for task in instance.open_tasks:
            if task.assignee_id is not None:
                holders.append(task.assignee.get_username())
            else:
                waiting_for += [group.name for group in task.candidate_groups.all()]
                waiting_for += [person.get_username() for person in task.candidate_users.all()]
        rows.append(
            CaseRow(
                instance=instance,
                steps=_unique(names),
                holders=_unique(holders),
                waiting_for=_unique(waiting_for),
            )
        )
    return rows


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
