"""Moving instances to another version from the admin: the instances' action "Migrate to
version…" (a form, then each selected instance's dry-run report, then a batch on
confirmation), and the batches with their progress and outcomes."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from processes.admin_base import ReadOnlyAdmin, ReadOnlyInline
from processes.errors import FlowdeskError
from processes.models import MigrationBatch, MigrationOutcome
from processes.services import instance_migrate, instances_migrate

PREVIEW_LIMIT = 200  # dry runs shown on one page, each under its instance's lock


class MigrateForm(forms.Form):
    to_version = forms.TypedChoiceField(coerce=int, label="Move to version")
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Steps that changed their id, as JSON: {"old_step_id": "new_step_id"}. '
        "Steps that keep their id need nothing.",
    )

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_version"].choices = [(n, f"Version {n}") for n in versions]

    def clean_mapping(self) -> dict[str, str]:
        text = self.cleaned_data["mapping"].strip()
        if not text:
            return {}
        try:
            mapping = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"not JSON: {error}") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in mapping.items()
        ):
            raise forms.ValidationError('write an object of step ids: {"old": "new"}')
        return mapping


@admin.action(description="Migrate to version…", permissions=["control"])
def migrate_to_version(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset
) -> HttpResponse | None:
    """Choose the version (and a mapping), see each instance's dry run, then confirm: a
    batch per version the selected instances run (`instances_migrate`)."""
    instances = list(queryset.select_related("definition", "definition_version"))
    definitions = {instance.definition_id for instance in instances}
    if len(definitions) != 1:
        messages.error(request, "Select instances of one process definition to migrate.")
        return None
    if len(instances) > PREVIEW_LIMIT:
        messages.error(request, f"Select at most {PREVIEW_LIMIT} instances to migrate at once.")
        return None
    definition = instances[0].definition
    versions = list(definition.versions.order_by("-number").values_list("number", flat=True))
    data = request.POST if "to_version" in request.POST else None
    form = MigrateForm(data, versions=versions)
    reports = []
    if form.is_valid():
        to_version, mapping = form.cleaned_data["to_version"], form.cleaned_data["mapping"]
        if "confirm" in request.POST:
            return _start_batches(request, definition, instances, to_version, mapping)
        reports = [_dry_run(request, instance, to_version, mapping) for instance in instances]
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": f"Migrate instances of {definition.name}",
        "form": form,
        "rows": list(zip(instances, reports, strict=False)) or [(i, None) for i in instances],
        "previewed": bool(reports),
        "movable": sum(1 for report in reports if report and report.ok),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/processes/migrate_action.html", context)


def _dry_run(request: HttpRequest, instance, to_version: int, mapping: dict):
    try:
        return instance_migrate(
            instance=instance,
            to_version=to_version,
            mapping=mapping,
            dry_run=True,
            user=request.user,
        )
    except FlowdeskError as error:
        messages.error(request, f"{instance}: {error.message}")
        return None


def _start_batches(request: HttpRequest, definition, instances, to_version: int, mapping):
    by_version: dict[int, list[str]] = {}
    for instance in instances:
        by_version.setdefault(instance.definition_version.number, []).append(instance.pk)
    batch_id = None
    for from_version, ids in sorted(by_version.items()):
        try:
            batch_id = instances_migrate(
                definition_key=definition.key,
                from_version=from_version,
                to_version=to_version,
                mapping=mapping,
                instance_ids=ids,
                user=request.user,
            )
        except FlowdeskError as error:
            messages.error(request, error.message)
            return None
        messages.success(
            request,
            f"Migrating {len(ids)} instance(s) from version {from_version} to {to_version}:"
            f" batch {batch_id}.",
        )
    if len(by_version) == 1:
        return redirect("admin:processes_migrationbatch_change", batch_id)
    return redirect("admin:processes_migrationbatch_changelist")


class OutcomeInline(ReadOnlyInline):
    model = MigrationOutcome
    fields = ("instance_id", "ok", "moves", "problems", "created_at")
    readonly_fields = fields
    ordering = ("ok", "id")  # the refused first
    verbose_name_plural = "outcomes"

    @admin.display(description="moves")
    def moves(self, outcome: MigrationOutcome) -> str:
        moves = outcome.report.get("moves", {})
        return ", ".join(f"{old} → {new}" for old, new in moves.items()) or "—"

    @admin.display(description="problems")
    def problems(self, outcome: MigrationOutcome) -> str:
        found = outcome.report.get("problems", [])
        return "; ".join(f"{p['step'] or 'instance'}: {p['problem']}" for p in found) or "—"


@admin.register(MigrationBatch)
class MigrationBatchAdmin(ReadOnlyAdmin):
    """Each batch's progress, and what became of each of its instances."""

    list_display = (
        "id",
        "definition",
        "versions",
        "status",
        "progress",
        "migrated",
        "refused",
        "dry_run",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "dry_run")
    list_select_related = ("definition", "from_version", "to_version", "created_by")
    fields = (
        "definition",
        "versions",
        "status",
        "progress",
        "migrated",
        "refused",
        "mapping",
        "dry_run",
        "created_by",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (OutcomeInline,)

    @admin.display(description="versions")
    def versions(self, batch: MigrationBatch) -> str:
        return f"{batch.from_version.number} → {batch.to_version.number}"

    @admin.display(description="progress")
    def progress(self, batch: MigrationBatch) -> str:
        return f"{batch.done} of {batch.total} done"
