"""Human tasks in the operators' console: find them (state, assignee, overdue), reassign them."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import can_assign_tasks
from processes.admin_base import ReadOnlyAdmin, act_on_each
from processes.statuses import TaskState
from tasks.forms import ReassignForm
from tasks.models import Task
from tasks.services import task_assign


class OverdueFilter(admin.SimpleListFilter):
    title = "due date"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return (("yes", "Overdue"), ("no", "Not overdue"))

    def queryset(self, request: HttpRequest, queryset):
        overdue = Q(due_date__lt=timezone.now(), state__in=(TaskState.OPEN, TaskState.ASSIGNED))
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "instance",
        "business_key",
        "state",
        "assignee",
        "due_date",
        "priority",
        "created_at",
    )
    list_filter = ("state", ("assignee", admin.RelatedOnlyFieldListFilter), OverdueFilter)
    search_fields = ("name", "instance__business_key", "^instance__id")
    list_select_related = ("instance", "assignee")
    actions = ("reassign",)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return can_assign_tasks(request.user)

    def view_on_site(self, task: Task) -> str:
        return reverse("task-detail", args=[task.pk])

    @admin.display(description="business key", ordering="instance__business_key")
    def business_key(self, task: Task) -> str:
        return task.instance.business_key

    @admin.action(description="Reassign the selected tasks", permissions=["assign"])
    def reassign(self, request: HttpRequest, queryset) -> TemplateResponse | None:
        """Asks for the new assignee, then assigns each task to them through the service."""
        form = ReassignForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            assignee = form.cleaned_data["assignee"]
            act_on_each(
                request,
                queryset,
                lambda task: task_assign(task=task, assignee=assignee, user=request.user),
                done=f"reassigned to {assignee.get_username()}",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Reassign tasks",
            "form": form,
            "tasks": queryset.select_related("instance", "assignee"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tasks/task/reassign.html", context)
