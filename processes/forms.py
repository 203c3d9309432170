"""Forms of the start page, the cases page's filters and the admin's definition upload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import Group

from processes.dsl import format_of_file
from processes.dsl.graph import VariableSpec
from processes.instance_lists import STARTED, WAITING, case_definitions, cursor_parse
from processes.statuses import DefinitionFormat, InstanceStatus
from tasks.forms import PageForm, SchemaForm

MAX_SOURCE_BYTES = 1_000_000


class StartForm(PageForm):
    business_key = forms.CharField(
        required=False,
        max_length=200,
        label="Business key",
        help_text="Your own reference for this case, e.g. an invoice number (optional).",
    )


class VariablesForm(SchemaForm):
    """A field per variable the definition declares; its names are prefixed `var-` on the page
    so they never clash with the start form's own fields."""

    def __init__(self, *args: Any, declared: Mapping[str, VariableSpec], **kwargs: Any) -> None:
        schema = {name: spec.as_field() for name, spec in declared.items()}
        super().__init__(*args, schema=schema, prefix="var", **kwargs)


class VariablesEditForm(SchemaForm):
    """Every variable of an instance, typed by its declaration (undeclared ones as JSON), with
    its value when the page was opened; `changes` holds only the fields the operator changed
    (an emptied one removes its variable), and `checksum` what the page was opened on."""

    checksum = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        declared: Mapping[str, VariableSpec],
        current: Mapping[str, Any],
        checksum: str,
        **kwargs: Any,
    ) -> None:
        schema = {name: _repair_field(spec) for name, spec in declared.items()}
        schema |= {name: {"type": "object"} for name in current if name not in declared}
        super().__init__(*args, schema=schema, prefix="var", **kwargs)
        self.fields["checksum"].initial = checksum
        for name, field in self.fields.items():
            if name == "checksum":
                continue
            # What the page shows is what `changed_data` compares the submitted value with.
            field.show_hidden_initial = True
            field.initial = current.get(name, field.initial)
            if name not in declared:
                field.help_text = "Not declared by the process: any JSON value."

    def changes(self) -> dict[str, Any]:
        given = self.values()
        return {name: given.get(name) for name in self.changed_data if name != "checksum"}


def _repair_field(spec: VariableSpec) -> dict[str, Any]:
    field = {**spec.as_field(), "required": False}
    if spec.type == "boolean":
        # Unset, Yes or No: a checkbox would turn an absent flag into False.
        return {**field, "type": "choice", "choices": [True, False]}
    if spec.type == "date":
        # A date variable may hold a date and time, which a date input cannot show.
        return {**field, "type": "string", "help": "YYYY-MM-DD, or an ISO date and time."}
    return field


class CaseFilterForm(forms.Form):
    """The cases page's query string: search, filters and the page position."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Business key or process"}),
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *InstanceStatus.choices], label="Status"
    )
    process = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All processes", label="Process"
    )
    show = forms.ChoiceField(
        required=False,
        choices=[("", "All I may see"), (STARTED, "Started by me"), (WAITING, "Waiting on me")],
        label="Show",
    )
    older = forms.CharField(required=False, widget=forms.HiddenInput)
    newer = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["process"].queryset = case_definitions(user=user)
        self.fields["process"].label_from_instance = lambda definition: definition.name

    def clean_older(self) -> Any:
        return self._cursor("older")

    def clean_newer(self) -> Any:
        return self._cursor("newer")

    def _cursor(self, name: str) -> Any:
        text = self.cleaned_data[name]
        try:
            return cursor_parse(text) if text else None
        except ValueError:
            raise forms.ValidationError(
                "This page link is broken: go back to the newest cases."
            ) from None

    def is_filtered(self) -> bool:
        """Whether a search or filter narrows the cases (a page position does not)."""
        data = self.cleaned_data
        return any(data.get(name) for name in ("q", "status", "process", "show"))

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        process = data.get("process")
        return {
            "search": data.get("q") or "",
            "status": data.get("status") or None,
            "definition_id": process.pk if process else None,
            "show": data.get("show") or "",
            "older": data.get("older"),
            "newer": data.get("newer"),
        }


class DefinitionSourceForm(forms.Form):
    """A definition uploaded as a file or pasted; `clean` leaves its `text` and `format`."""

    file = forms.FileField(
        required=False, label="Definition file", help_text="A .json, .yaml or .yml file."
    )
    source = forms.CharField(
        required=False,
        strip=False,
        label="Or paste the definition",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "source"}),
    )
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Detect"), (DefinitionFormat.JSON, "JSON"), (DefinitionFormat.YAML, "YAML")],
        help_text="Detected from the file name, else from the text (JSON starts with '{').",
    )
    starter_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label="Who may start it",
        help_text="Groups whose members may start this process (managers and admins always "
        "may). More can be granted later under “Who may start it”.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload, pasted = data.get("file"), data.get("source") or ""
        if upload and pasted.strip():
            raise forms.ValidationError("Upload a file or paste the definition, not both.")
        if not upload and not pasted.strip():
            raise forms.ValidationError("Upload a file or paste the definition.")
        name, text = "", pasted
        if upload:
            if upload.size > MAX_SOURCE_BYTES:
                raise forms.ValidationError({"file": "The file is larger than 1 MB."})
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError({"file": "The file is not UTF-8 text."}) from None
            name = upload.name
        data["text"] = text
        data["format"] = data.get("format") or _detect_format(name, text)
        return data


def _detect_format(name: str, text: str) -> str:
    return format_of_file(name) or (
        DefinitionFormat.JSON if text.lstrip().startswith("{") else DefinitionFormat.YAML
    )
