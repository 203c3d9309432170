"""The operators' console: definitions and their versions, instances with their history, and
failed jobs (incidents).

Nothing here changes the engine's rows directly: publishing and every action call a service
once per selected object, and the operator is told how many succeeded and why the others
did not. Instances, versions, jobs and events are read-only in the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.permissions import can_control_instances
from processes.admin_base import ReadOnlyAdmin, ReadOnlyInline, act_on_each
from processes.admin_migrations import migrate_to_version
from processes.controls import INSTANCE_CONTROLS, InstanceControl
from processes.dsl import DefinitionError
from processes.errors import FlowdeskError
from processes.forms import DefinitionSourceForm
from processes.instance_waits import subscription_label, timer_label
from processes.models import (
    DefinitionVersion,
    Event,
    Job,
    Loop,
    Message,
    ProcessDefinition,
    ProcessInstance,
    Subscription,
    Timer,
    Token,
    Trigger,
)
from processes.selectors import definition_start_shares, definitions_with_counts
from processes.services import definition_publish, instance_purge, instance_retry
from processes.services.history import REASON_MAX_CHARS
from processes.services.messages import subscription_cancel
from processes.services.timers import timer_fire_now
from processes.statuses import InstanceStatus, JobStatus, SubscriptionStatus, TimerStatus

# --- Definitions -----------------------------------------------------------------------------


class DefinitionVersionInline(ReadOnlyInline):
    """Each version with its share of new starts and its instances."""

    model = DefinitionVersion
    fields = (
        "number",
        "format",
        "new_starts",
        "running",
        "instances",
        "published_by",
        "created_at",
        "source_link",
    )
    readonly_fields = fields
    ordering = ("-number",)

    def get_queryset(self, request: HttpRequest):
        versions = super().get_queryset(request).select_related("definition", "published_by")
        live = (InstanceStatus.PENDING, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
        own = Q(instances__scope="")
        return versions.annotate(
            instances_total=Count("instances", filter=own),
            instances_running=Count("instances", filter=own & Q(instances__status__in=live)),
        )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        # The split is the definition's: read once for all its versions' rows.
        self.shares = definition_start_shares(definition=obj) if obj is not None else {}
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="new starts")
    def new_starts(self, version: DefinitionVersion) -> str:
        return f"{self.shares.get(version.pk, 0)}%"

    @admin.display(description="running")
    def running(self, version: DefinitionVersion) -> int:
        return version.instances_running

    @admin.display(description="instances")
    def instances(self, version: DefinitionVersion) -> int:
        return version.instances_total

    @admin.display(description="source")
    def source_link(self, version: DefinitionVersion) -> str:
        url = reverse("admin:processes_definitionversion_change", args=[version.pk])
        return format_html('<a href="{}">View the source</a>', url)


class TriggerInline(ReadOnlyInline):
    """What starts the definition now: the latest version's triggers (every version's are on
    the triggers list)."""

    model = Trigger
    fields = ("kind", "spec", "version", "next_due_at", "last_fired_at", "started", "last_error")
    readonly_fields = fields
    ordering = ("position",)
    verbose_name_plural = "start triggers"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(active=True).select_related("version")


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    """Definitions are published (the add page), never edited: a version is immutable.

    "Who may start it" leads to the page where managers grant and revoke, per user or
    group, the right to start the definition (django-guardian's object permission).
    """

    list_display = (
        "key",
        "name",
        "latest_version",
        "instances_running",
        "instances_failed",
        "instances_total",
        "updated_at",
    )
    search_fields = ("key", "name")
    readonly_fields = ("key", "name", "description", "new_starts", "created_at", "updated_at")
    inlines = (TriggerInline, DefinitionVersionInline)

    def get_queryset(self, request: HttpRequest):
        return definitions_with_counts()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_deleted_objects(self, objs, request: HttpRequest):
        """Versions go with their definition (they have no delete right of their own), so
        what stops a delete is named: the instances that still need the definition."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(DefinitionVersion._meta.verbose_name)
        in_use = ProcessInstance.objects.filter(definition__in=list(objs)).count()
        if in_use:
            perms_needed.discard(ProcessInstance._meta.verbose_name)
            protected = [
                f"{in_use:,} process instance{'s' if in_use != 1 else ''} of it: a definition "
                "with instances cannot be deleted, because their history refers to it"
            ]
        return deleted, counts, perms_needed, protected

    @admin.display(description="latest version", ordering="latest_version")
    def latest_version(self, definition: ProcessDefinition) -> int | None:
        return definition.latest_version

    @admin.display(description="new starts go to")
    def new_starts(self, definition: ProcessDefinition) -> str:
        """The split of a rollout under way, else the version every start goes to."""
        numbers = dict(definition.versions.values_list("pk", "number"))
        shares = definition_start_shares(definition=definition)
        parts = sorted(((numbers[pk], share) for pk, share in shares.items()), reverse=True)
        return " · ".join(f"v{number}: {share}%" for number, share in parts)

    @admin.display(description="running", ordering="instances_running")
    def instances_running(self, definition: ProcessDefinition) -> int:
        return definition.instances_running

    @admin.display(description="failed", ordering="instances_failed")
    def instances_failed(self, definition: ProcessDefinition) -> int:
        return definition.instances_failed

    @admin.display(description="instances", ordering="instances_total")
    def instances_total(self, definition: ProcessDefinition) -> int:
        return definition.instances_total

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Publish a definition uploaded or pasted: a new definition or its next version."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DefinitionSourceForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            text, format = form.cleaned_data["text"], form.cleaned_data["format"]
            starters = [group.name for group in form.cleaned_data["starter_groups"]]
            try:
                version = definition_publish(
                    source=text, format=format, user=request.user, starter_groups=starters
                )
            except DefinitionError as error:
                problems = sorted(error.problems, key=lambda problem: problem.line or 0)
                # A file input cannot be refilled: give the text back to fix in place.
                form = DefinitionSourceForm(initial={"source": text, "format": format})
            except FlowdeskError as error:
                form.add_error(None, error.message)
            else:
                latest = f"Version {version.number} of {version.definition.key} is the latest."
                self.message_user(request, latest, messages.SUCCESS)
                return redirect("admin:processes_processdefinition_change", version.definition_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Publish a definition",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/processes/processdefinition/publish.html", context)


@admin.register(Trigger)
class TriggerAdmin(ReadOnlyAdmin):
    """Every version's start triggers; those of older versions are inactive."""

    list_display = (
        "definition",
        "version",
        "kind",
        "spec",
        "active",
        "next_due_at",
        "last_fired_at",
        "started",
        "last_error",
    )
    list_filter = ("active", "kind")
    list_select_related = ("definition", "version__definition")
    search_fields = ("definition__key", "spec")
    fields = (*list_display, "variables", "created_at")
    readonly_fields = fields


@admin.register(DefinitionVersion)
class DefinitionVersionAdmin(ReadOnlyAdmin):
    list_display = ("definition", "number", "format", "published_by", "created_at")
    list_filter = ("format", "definition")
    list_select_related = ("definition", "published_by")
    fields = ("definition", "number", "format", "published_by", "created_at", "checksum", "text")
    readonly_fields = fields

    @admin.display(description="source")
    def text(self, version: DefinitionVersion) -> str:
        return format_html('<pre class="definition-source">{}</pre>', version.source)


# --- Instances ---------------------------------------------------------------------------------


class TokenInline(ReadOnlyInline):
    """Where the instance is and has been, and what held it at each step."""

    model = Token
    fields = ("node_id", "loop_index", "status", "holder", "arrived_from", "created_at", "ended_at")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name_plural = "tokens"


class LoopInline(ReadOnlyInline):
    """Its for-each steps: how many items each has, started, running and done."""

    model = Loop
    fields = ("step_id", "progress", "total", "started", "active", "completed", "created_at")
    readonly_fields = fields
    ordering = ("-id",)
    verbose_name_plural = "for-each steps"

    @admin.display(description="progress")
    def progress(self, loop: Loop) -> str:
        return f"{loop.completed} of {loop.total} done"


class TimerInline(ReadOnlyInline):
    """What the instance waits for and until when: timer steps, and boundary timers named by
    their step and kind; a scheduled one links to where it can be fired now."""

    model = Timer
    fields = ("step_id", "event", "status", "due_at", "overdue", "created_at", "fired_at", "fire")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name_plural = "timers"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("instance")

    @admin.display(description="timer")
    def event(self, timer: Timer) -> str:
        return timer_label(timer)

    @admin.display(description="overdue", boolean=True)
    def overdue(self, timer: Timer) -> bool:
        return _overdue(timer)

    @admin.display(description="")
    def fire(self, timer: Timer) -> str:
        return _pending_link(timer, TimerStatus.SCHEDULED, "Fire now…")


def _overdue(timer: Timer) -> bool:
    return timer.status == TimerStatus.SCHEDULED and timer.due_at < timezone.now()


class SubscriptionInline(ReadOnlyInline):
    """The messages and signals the instance waits for (and waited for), by name and key;
    a waiting one links to where it can be stopped."""

    model = Subscription
    fields = ("step_id", "event", "status", "created_at", "delivered_at", "stop")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name_plural = "message and signal waits"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("instance")

    @admin.display(description="waits for")
    def event(self, subscription: Subscription) -> str:
        return subscription_label(subscription.instance.graph, subscription)

    @admin.display(description="")
    def stop(self, subscription: Subscription) -> str:
        return _pending_link(subscription, SubscriptionStatus.WAITING, "Stop waiting…")


def _pending_link(wait: Timer | Subscription, pending: str, label: str) -> str:
    """A link to the list of the instance's pending waits of this kind, where the operator
    acts on them; none once this one is not pending."""
    if wait.status != pending:
        return ""
    url = reverse(f"admin:processes_{wait._meta.model_name}_changelist")
    query = f"?instance__id__exact={wait.instance_id}&status__exact={pending}"
    return format_html('<a href="{}">{}</a>', url + query, label)


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("created_at", "type", "step_id", "actor", "payload")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name_plural = "history"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")


def _control_action(control: InstanceControl) -> Callable:
    """A bulk action calling the control's service (which checks the caller and the
    transition) on each instance."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:
        act_on_each(
            request,
            queryset,
            lambda i: control.service(instance=i, user=request.user),
            done=control.past,
        )

    action.__name__ = f"{control.name}_selected"
    description = f"{control.label} the selected instances"
    return admin.action(description=description, permissions=["control"])(action)


class ParentFilter(admin.SimpleListFilter):
    """Top-level instances, children, or (``?parent=<id>``, the instance page's link) the
    children of one instance."""

    title = "parent"
    parameter_name = "parent"
    TOP, CHILD = "none", "any"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        choices = [(self.TOP, "Started by no subprocess"), (self.CHILD, "Started by a subprocess")]
        if self.value() not in (None, self.TOP, self.CHILD):
            choices.append((self.value(), f"Children of {self.value()}"))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value in (self.TOP, self.CHILD):
            return queryset.filter(parent__isnull=value == self.TOP)
        return queryset.filter(parent_id=value)


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "definition",
        "version",
        "status",
        "business_key",
        "started_by",
        "created_at",
        "ended_at",
    )
    list_filter = ("status", "definition", ParentFilter, "created_at")
    search_fields = ("business_key", "^id")
    search_help_text = "Business key, or the start of an instance id."
    list_select_related = ("definition", "definition_version", "started_by")
    inlines = (TokenInline, LoopInline, TimerInline, SubscriptionInline, EventInline)
    actions = (
        *(_control_action(c) for c in INSTANCE_CONTROLS.values() if not c.page),
        migrate_to_version,
        "purge_selected",
    )

    def has_control_permission(self, request: HttpRequest) -> bool:
        return all(control.may(request.user) for control in INSTANCE_CONTROLS.values())

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return can_control_instances(request.user)

    @admin.action(
        description="Purge the selected finished instances (delete them and their history)",
        permissions=["purge"],
    )
    def purge_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """After a confirmation page, `instance_purge` on each selected instance; a child
        whose parent is selected too goes with its parent."""
        instances = list(queryset.select_related("definition"))
        selected = {instance.pk for instance in instances}
        tops = [instance for instance in instances if instance.parent_id not in selected]
        if "post" in request.POST:
            act_on_each(
                request,
                tops,
                lambda instance: instance_purge(instance=instance, user=request.user),
                done="purged",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Purge instances",
            "instances": instances,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/processes/purge_confirmation.html", context)

    def view_on_site(self, instance: ProcessInstance) -> str:
        return reverse("instance-detail", args=[instance.pk])

    @admin.display(description="version", ordering="definition_version__number")
    def version(self, instance: ProcessInstance) -> int:
        return instance.definition_version.number


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why you act by hand; the history keeps it with your name.",
    )


@dataclass(frozen=True)
class ReasonedAction:
    """A bulk action that first asks for a reason (an intermediate page), then calls
    `act(obj, reason)`, one service call per selected row."""

    name: str  # the admin action's name
    title: str
    intro: str
    submit: str
    done: str
    act: Callable[[Any, str, Any], Any]  # (row, reason, user)
    describe: Callable[[Any], str]  # the row as the confirmation page lists it

    def run(self, modeladmin: admin.ModelAdmin, request: HttpRequest, queryset):
        form = ReasonForm(request.POST if "post" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            act_on_each(
                request, queryset, lambda row: self.act(row, reason, request.user), done=self.done
            )
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.opts,
            "title": self.title,
            "intro": self.intro,
            "submit": self.submit,
            "action_name": self.name,
            "rows": [
                {
                    "pk": row.pk,
                    "instance_id": row.instance_id,
                    "instance": row.instance,
                    "text": self.describe(row),
                }
                for row in queryset
            ],
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/processes/reasoned_action.html", context)


FIRE_NOW = ReasonedAction(
    name="fire_now",
    title="Fire timers now",
    intro="Each timer fires as if it were due now: a timer step moves on, an interrupting "
    "timer cancels its step (its task leaves the inbox) and the path goes on, a reminder "
    "starts its path. Timers already fired or cancelled, and those of instances that are not "
    "running, are refused.",
    submit="Fire now",
    done="fired",
    act=lambda timer, reason, user: timer_fire_now(timer_id=timer.pk, reason=reason, user=user),
    describe=lambda timer: f"{timer.step_id}, due {timer.due_at:%Y-%m-%d %H:%M} ({timer.status})",
)

STOP_WAITING = ReasonedAction(
    name="stop_waiting",
    title="Stop waiting",
    intro="Each wait stops: its step no longer takes that message or signal. The last thing "
    "a step waits for is refused (raise the event or terminate the instance instead).",
    submit="Stop waiting",
    done="stopped",
    act=lambda subscription, reason, user: subscription_cancel(
        subscription_id=subscription.pk, reason=reason, user=user
    ),
    describe=lambda subscription: (
        f"{subscription.step_id}: " + subscription_label(subscription.instance.graph, subscription)
    ),
)


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    """Every timer; an operator fires scheduled ones now, with a reason (an intermediate page
    asks for it), each through `timer_fire_now`."""

    list_display = ("id", "instance", "step_id", "event", "status", "due_at", "overdue")
    list_filter = ("status",)
    list_select_related = ("instance",)
    search_fields = ("^instance__id", "instance__business_key", "step_id")
    ordering = ("-id",)
    actions = ("fire_now",)

    def has_control_permission(self, request: HttpRequest) -> bool:
        return can_control_instances(request.user)

    @admin.display(description="timer")
    def event(self, timer: Timer) -> str:
        return timer_label(timer)

    @admin.display(description="overdue", boolean=True)
    def overdue(self, timer: Timer) -> bool:
        return _overdue(timer)

    @admin.action(description="Fire the selected timers now…", permissions=["control"])
    def fire_now(self, request: HttpRequest, queryset) -> TemplateResponse | None:
        return FIRE_NOW.run(self, request, queryset)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Every wait for a message or signal; an operator stops waiting ones, with a reason,
    each through `subscription_cancel`."""

    list_display = ("id", "instance", "step_id", "kind", "name", "correlation_key", "status")
    list_filter = ("status", "kind")
    list_select_related = ("instance",)
    search_fields = ("^instance__id", "name", "correlation_key", "step_id")
    ordering = ("-id",)
    actions = ("stop_waiting",)

    def has_control_permission(self, request: HttpRequest) -> bool:
        return can_control_instances(request.user)

    @admin.action(description="Stop the selected waits…", permissions=["control"])
    def stop_waiting(self, request: HttpRequest, queryset) -> TemplateResponse | None:
        return STOP_WAITING.run(self, request, queryset)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Messages sent with a ttl before anything waited for them: kept, delivered (to which
    instance) or expired."""

    list_display = (
        "id",
        "name",
        "correlation_key",
        "business_key",
        "status",
        "created_at",
        "expires_at",
        "instance",
    )
    list_filter = ("status",)
    search_fields = ("name", "correlation_key", "business_key")
    ordering = ("-id",)


# --- Failed jobs (incidents) --------------------------------------------------------------------


class JobStatusFilter(admin.SimpleListFilter):
    """Every job unless the operator picks a status; "Failed" lists the incidents."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [(self.ALL, "All"), *JobStatus.choices]

    def value(self) -> str:
        return super().value() or self.ALL

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset):
        return queryset if self.value() == self.ALL else queryset.filter(status=self.value())


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "instance",
        "step_id",
        "service",
        "status",
        "attempt",
        "error",
        "error_message",
        "traceback_folded",
        "finished_at",
    )
    list_filter = (JobStatusFilter, "service")
    search_fields = ("^instance__id", "instance__business_key", "step_id", "error")
    list_select_related = ("instance",)
    ordering = ("-finished_at", "-id")
    exclude = ("traceback", "lease_token")
    readonly_fields = ("traceback_text",)
    actions = ("retry_instances",)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return can_control_instances(request.user)

    @admin.action(description="Retry the instances of the selected jobs", permissions=["retry"])
    def retry_instances(self, request: HttpRequest, queryset) -> None:
        instances = {job.instance_id: job.instance for job in queryset}
        act_on_each(
            request,
            instances.values(),
            lambda instance: instance_retry(instance=instance, user=request.user),
            done="retried",
        )

    @admin.display(description="traceback")
    def traceback_folded(self, job: Job) -> str:
        if not job.traceback:
            return ""
        return format_html(
            '<details><summary>Show</summary><pre class="traceback">{}</pre></details>',
            job.traceback,
        )

    @admin.display(description="traceback")
    def traceback_text(self, job: Job) -> str:
        return format_html('<pre class="traceback">{}</pre>', job.traceback or "—")

# Webhook subscriptions, deliveries and their attempts (issue 13): a module of their own.
from processes import admin_webhooks  # noqa: E402, F401
