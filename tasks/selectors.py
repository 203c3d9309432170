"""The read API for human tasks: visibility, the inbox queues, candidacy."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from processes.errors import NotFound
from processes.models import ProcessDefinition, ProcessInstance, graphs_of_versions
from processes.statuses import InstanceStatus, TaskState
from tasks.models import Task


def _candidate(user: Any) -> Q:
    """Named as a candidate user, or a member of a candidate group (as subqueries, no joins)."""
    named = Task.candidate_users.through.objects.filter(task_id=OuterRef("pk"), user_id=user.pk)
    in_group = Task.candidate_groups.through.objects.filter(
        task_id=OuterRef("pk"), group__user=user.pk
    )
    return Q(Exists(named)) | Q(Exists(in_group))


def tasks_involving(*, user: Any) -> QuerySet[Task]:
    """Tasks `user` is assigned, a candidate for, or completed."""
    return Task.objects.filter(Q(assignee=user) | Q(completed_by=user) | _candidate(user))


def tasks_visible_to(*, user: Any) -> QuerySet[Task]:
    """Every task for managers; else those `user` is involved in or whose instance they
    started (a requester follows their request, and is told why they may not claim it)."""
    from accounts.permissions import can_see_all_tasks

    if can_see_all_tasks(user):
        return Task.objects.all()
    return Task.objects.filter(
        Q(assignee=user) | Q(completed_by=user) | Q(instance__started_by=user) | _candidate(user)
    )


def task_get_visible(*, task_id: Any, user: Any) -> Task:
    """The task, or NotFound when it does not exist or `user` may not see it."""
    try:
        task = tasks_visible_to(user=user).filter(pk=int(task_id)).first()
    except (TypeError, ValueError):
        task = None
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def tasks_assigned_to(*, user: Any) -> QuerySet[Task]:
    """My tasks: claimed by or assigned to `user`, not finished."""
    return Task.objects.filter(state=TaskState.ASSIGNED, assignee=user)


def tasks_claimable_by(*, user: Any) -> QuerySet[Task]:
    """The group queue: open tasks for which `user` is a candidate."""
    return Task.objects.filter(state=TaskState.OPEN).filter(_candidate(user))


def tasks_completed_by(*, user: Any) -> QuerySet[Task]:
    return Task.objects.filter(state=TaskState.COMPLETED, completed_by=user)


def task_is_candidate(*, task: Task, user: Any) -> bool:
    """Whether `user` may claim `task`: named as a candidate, or in a candidate group."""
    if user.is_superuser:
        return True
    return Task.objects.filter(pk=task.pk).filter(_candidate(user)).exists()


@dataclass(frozen=True)
class TaskActions:
    """What `user` may do with a task now; `waiting` says why nothing can be done yet."""

    claim: bool = False
    unclaim: bool = False
    complete: bool = False
    assign: bool = False
    waiting: str = ""


def task_actions(*, task: Task, user: Any) -> TaskActions:
    """The one answer pages and the API give to "what may I do here"; the services re-check."""
    from accounts.permissions import can_assign_tasks

    if task.state not in (TaskState.OPEN, TaskState.ASSIGNED):
        return TaskActions()
    status = task.instance.status
    if status != InstanceStatus.RUNNING:
        waiting = f"The process is {status}: the task can be worked on once it runs again."
        return TaskActions(assign=can_assign_tasks(user), waiting=waiting)
    mine = task.state == TaskState.ASSIGNED and task.assignee_id == user.pk
    return TaskActions(
        claim=task.state == TaskState.OPEN and task_is_candidate(task=task, user=user),
        unclaim=task.state == TaskState.ASSIGNED and (mine or user.is_superuser),
        complete=mine,
        assign=can_assign_tasks(user),
    )


# --- The browser inbox -------------------------------------------------------------------

INBOX_QUEUES = {
    "mine": tasks_assigned_to,
    "queue": tasks_claimable_by,
    "done": tasks_completed_by,
}
INBOX_ORDERINGS = {
    "due": (F("due_date").asc(nulls_last=True), "-priority", "-created_at"),
    "created": ("-created_at",),
    "priority": ("-priority", F("due_date").asc(nulls_last=True), "-created_at"),
    "completed": (F("completed_at").desc(nulls_last=True), "-created_at"),
}
# What an inbox row shows; the JSON columns (form, result, variables) stay in the database.
INBOX_ROW_FIELDS = (
    "name",
    "state",
    "priority",
    "due_date",
    "created_at",
    "completed_at",
    "instance__business_key",
    "instance__status",
    "instance__definition__name",
)
# A done row also says who completed it (its outcome comes apart: see `tasks_results_fill`).
DONE_ROW_FIELDS = (
    *INBOX_ROW_FIELDS,
    "completed_by__username",
    "step_id",
    "instance__definition_version_id",
    "instance__scope",
)


def inbox_tasks(
    *,
    user: Any,
    queue: str,
    definition_id: int | None = None,
    search: str = "",
    order: str = "due",
) -> QuerySet[Task]:
    """One inbox tab (`mine`, `queue` or `done`), filtered by process and by text, sorted.

    Each row's process and business key come in the same query, so a page of rows is one
    query however many tasks the tab holds.
    """
    tasks = INBOX_QUEUES[queue](user=user)
    if definition_id is not None:
        tasks = tasks.filter(instance__definition_id=definition_id)
    if search:
        tasks = tasks.filter(
            Q(name__icontains=search) | Q(instance__business_key__icontains=search)
        )
    if queue == "done":
        tasks = tasks.select_related("completed_by").only(*DONE_ROW_FIELDS)
    else:
        tasks = tasks.only(*INBOX_ROW_FIELDS)
    return tasks.select_related("instance__definition").order_by(*INBOX_ORDERINGS[order], "-pk")


def tasks_results_fill(*, tasks: Iterable[Task]) -> None:
    """Load the submitted values (`result`) of a page of done tasks in one query, in the
    order their step's form lists the fields (the stored JSON keeps no order).

    The inbox's row query leaves this JSON column out, so that a tab's rows cost the same
    however much people wrote; the Done tab shows an outcome, read here for its page only.
    """
    page = list(tasks)
    rows = Task.objects.filter(pk__in=[t.pk for t in page]).order_by()
    results = dict(rows.values_list("pk", "result"))
    graphs = graphs_of_versions({task.instance.definition_version_id for task in page})
    for task in page:
        result = results.get(task.pk)
        nodes = graphs[task.instance.definition_version_id].scope(task.instance.scope).nodes
        if isinstance(result, dict) and task.step_id in nodes:
            order = {name: n for n, name in enumerate(nodes[task.step_id].form)}
            result = dict(sorted(result.items(), key=lambda item: order.get(item[0], len(order))))
        task.result = result


def inbox_definitions(*, user: Any) -> QuerySet[ProcessDefinition]:
    """The processes `user` has tasks in, in any inbox tab: the choices of its process filter.

    One EXISTS per tab, so each stops at its first task found by an index; a single EXISTS
    over their OR would read every task.
    """
    in_tabs = [
        Q(Exists(select(user=user).filter(instance__definition=OuterRef("pk"))))
        for select in INBOX_QUEUES.values()
    ]
    return (
        ProcessDefinition.objects.filter(reduce(operator.or_, in_tabs))
        .only("name")
        .order_by("name")
    )


def instance_open_tasks(*, instance: Any) -> QuerySet[Task]:
    """The tasks of `instance` still waiting for a person, with assignee and candidates."""
    return (
        Task.objects.filter(instance=instance, state__in=(TaskState.OPEN, TaskState.ASSIGNED))
        .select_related("assignee")
        .prefetch_related("candidate_users", "candidate_groups")
        .order_by("created_at", "pk")
    )


# --- For the REST API -----------------------------------------------------------------------

TASK_ORDERINGS = {
    "due_date": (F("due_date").asc(nulls_last=True), "id"),
    "-due_date": (F("due_date").desc(nulls_last=True), "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "priority": ("priority", "id"),
    "-priority": ("-priority", "-id"),
}


def tasks_list(
    *,
    user: Any,
    assignee: str | None = None,
    candidate_user: str | None = None,
    candidate_group: str | None = None,
    process_instance_id: str | None = None,
    state: str | None = None,
    due_before: datetime | None = None,
    ordering: str = "-created",
) -> QuerySet[Task]:
    """The tasks `user` may see, filtered; without `state`, the open and assigned ones.

    `assignee` and `candidate_user` are usernames: `candidate_user` keeps the open tasks that
    user may claim, named or through a group. The page's instances and definitions are
    prefetched, so a page costs the same number of queries whatever its size, and the page
    query itself joins nothing but the assignee.
    """
    # Tasks assigned to the caller, or open for them to claim, are theirs to see: testing
    # visibility as well would repeat the filter, at a cost on every row.
    own = user.get_username()
    tasks = Task.objects.all() if own in (assignee, candidate_user) else tasks_visible_to(user=user)
    states = (state,) if state else (TaskState.OPEN, TaskState.ASSIGNED)
    if candidate_user is not None:
        states = tuple(s for s in states if s == TaskState.OPEN)  # only open tasks are claimed
        candidate = user.pk if candidate_user == own else _user_id(candidate_user)
        tasks = tasks.filter(pk__in=_candidate_task_ids(candidate))
    tasks = tasks.filter(state__in=states)
    if assignee is not None:
        tasks = tasks.filter(assignee__username=assignee)
    if candidate_group is not None:
        in_group = Task.candidate_groups.through.objects.filter(group__name=candidate_group)
        tasks = tasks.filter(pk__in=in_group.values("task_id"))
    if process_instance_id is not None:
        tasks = tasks.filter(instance_id=process_instance_id)
    if due_before is not None:
        tasks = tasks.filter(due_date__lt=due_before)
    instances = ProcessInstance.objects.select_related("definition").only(
        "business_key", "definition__key"
    )
    return (
        tasks.select_related("assignee")
        .defer("form", "result")
        .prefetch_related(Prefetch("instance", queryset=instances))
        .order_by(*TASK_ORDERINGS[ordering])
    )


def _candidate_task_ids(user_id: int | Subquery) -> QuerySet:
    # By user id (not username) and as a UNION ALL: PostgreSQL then estimates a few hundred
    # rows and reads the tasks by primary key instead of scanning them all.
    named = Task.candidate_users.through.objects.filter(user_id=user_id)
    groups = get_user_model().groups.through.objects.filter(user_id=user_id)
    in_group = Task.candidate_groups.through.objects.filter(group_id__in=groups.values("group_id"))
    return named.values("task_id").union(in_group.values("task_id"), all=True)


def _user_id(username: str) -> Subquery:
    return Subquery(get_user_model().objects.filter(username=username).values("pk")[:1])


def task_form_schema(*, task: Task) -> dict[str, dict[str, Any]]:
    """The task's form fields in the order the definition lists them.

    The stored form (jsonb) does not keep its keys' order; the compiled graph does.
    """
    order = list(task.instance.graph.node(task.step_id).form)
    fields = {name: task.form[name] for name in order if name in task.form}
    return fields | {name: field for name, field in task.form.items() if name not in fields}
