"""The inbox and the task page: parse, check visibility, call one service, render.

Every task id in a URL goes through `task_get_visible`, so another user's task is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from processes.display import ShownList, shown_values
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.selectors import instance_history
from tasks.forms import INBOX_TABS, InboxFilterForm, TaskForm
from tasks.models import Task
from tasks.selectors import (
    INBOX_QUEUES,
    inbox_tasks,
    task_actions,
    task_form_schema,
    task_get_visible,
    tasks_results_fill,
)
from tasks.services import task_claim, task_complete, task_unclaim

INBOX_PAGE_SIZE = 25


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    filters = InboxFilterForm(request.GET, user=request.user)
    criteria = filters.criteria()
    tasks = inbox_tasks(user=request.user, **criteria)
    page = Paginator(tasks, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    if criteria["queue"] == "done":
        tasks_results_fill(tasks=page.object_list)
    context = {
        "filters": filters,
        "tab": criteria["queue"],
        "tab_label": INBOX_TABS[criteria["queue"]],
        "tabs": _inbox_tabs(request.user),
        "page": page,
    }
    return render(request, "tasks/inbox.html", context)


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_page(request, _visible_task(request, task_id))


@login_required
@require_POST
def task_claim_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, task_claim, done="You claimed this task.")


@login_required
@require_POST
def task_unclaim_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, task_unclaim, done="The task is back in its group queue.")


@login_required
@require_POST
def task_complete_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    form = TaskForm(request.POST, schema=task_form_schema(task=task))
    if not form.is_valid():
        return _task_page(request, task, form=form, status=400)
    try:
        task_complete(task=task, user=request.user, variables=form.values())
    except InvalidInput as error:
        form.add_service_errors(error)
        return _task_page(request, task, form=form, status=400)
    except Conflict as error:
        # Completed, cancelled or suspended meanwhile: show the task as it is now.
        task = _visible_task(request, task_id)
        return _task_page(request, task, form=form, notice=error.message, status=409)
    except NotAllowed as error:
        raise PermissionDenied(capfirst(error.message)) from None
    messages.success(request, f"Completed “{task.name}”.")
    return redirect("inbox")


def _task_action(
    request: HttpRequest, task_id: int, service: Callable[..., Task], *, done: str
) -> HttpResponse:
    """Claim or unclaim: call the service, answer with the row (htmx) or the task page."""
    task = _visible_task(request, task_id)
    try:
        task = service(task=task, user=request.user)
    except Conflict as error:
        return _after_action(request, task, notice=error.message, status=409)
    except NotAllowed as error:
        return _after_action(request, task, notice=error.message, status=403)
    return _after_action(request, task, done=done)


def _visible_task(request: HttpRequest, task_id: int) -> Task:
    try:
        return task_get_visible(task_id=task_id, user=request.user)
    except NotFound as error:
        raise Http404(error.message) from None


def _inbox_tabs(user: Any) -> list[tuple[str, str, int]]:
    """Each tab's key, label and how many tasks it holds (unfiltered)."""
    return [
        (queue, label, INBOX_QUEUES[queue](user=user).count())
        for queue, label in INBOX_TABS.items()
    ]


def _after_action(
    request: HttpRequest, task: Task, *, done: str = "", notice: str = "", status: int = 200
) -> HttpResponse:
    """The task's inbox row for htmx (with fresh tab counts); else back to the task page."""
    if request.htmx:
        context = {"task": task, "notice": notice, "tabs": _inbox_tabs(request.user)}
        return render(request, "tasks/inbox_row_swap.html", context, status=status)
    if status == 403:
        raise PermissionDenied(capfirst(notice))
    if notice:
        messages.warning(request, capfirst(notice) + ".")
    else:
        messages.success(request, done)
    return redirect("task-detail", task.pk)


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    form: TaskForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    instance = task.instance
    actions = task_actions(task=task, user=request.user)
    if actions.complete:
        form = form or TaskForm(schema=task_form_schema(task=task))
    context = {
        "task": task,
        "instance": instance,
        "variables": _relevant_variables(instance),
        "result": shown_values(task.result or {}, specs=task.form),
        # A form submitted just as the process was suspended stays, disabled, with its values.
        "form": form,
        "actions": actions,
        "notice": notice,
        "timeline": instance_history(instance=instance),
    }
    return render(request, "tasks/task_detail.html", context, status=status)


def _relevant_variables(instance: Any) -> ShownList:
    """The variables the definition declares (what the case is about), else all of them."""
    declared = instance.graph.variables
    names = [name for name in declared if name in instance.variables] or sorted(instance.variables)
    return shown_values(instance.variables, specs=declared, names=names)
