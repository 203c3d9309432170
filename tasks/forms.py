"""Django forms generated from a form schema, the inbox filters and the operators' reassign form.

A schema is a user step's `form` as stored on the task: field -> {type, required, label,
help, choices, min, max, default}. The generated forms check what a browser form can (types,
required, bounds) so errors show next to the fields; `tasks.form_validation.form_clean` in
the service stays the final judge, and its field errors are put back on the form with
`add_service_errors`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms

from accounts.selectors import users_assignable
from processes.errors import InvalidInput
from processes.variables import storable_check
from tasks.selectors import inbox_definitions

# A boolean schema field named so is a decision: Approve / Reject buttons, not a checkbox.
DECISION = "approved"


class NumberField(forms.FloatField):
    """A number as JSON writes it: 5000 stays an integer, 12.5 a float."""

    def to_python(self, value: Any) -> int | float | None:
        number = super().to_python(value)
        return int(number) if number is not None and number.is_integer() else number


class StorableJSONField(forms.JSONField):
    """JSON typed into a page: what PostgreSQL cannot store, nesting Python cannot parse and
    numbers too long to read are field errors, and a refused value is shown back escaped."""

    def to_python(self, value: Any) -> Any:
        try:
            parsed = super().to_python(value)
        except (RecursionError, ValueError) as error:
            if isinstance(error, forms.ValidationError):
                raise
            raise forms.ValidationError("This is not JSON that can be read.") from None
        try:
            storable_check(parsed)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None
        return parsed

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return json.dumps(value, ensure_ascii=True, cls=self.encoder)


class MoneyField(NumberField):
    """An amount of money: typed with cents and thousands separators, sent as a number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | float | None:
        if isinstance(value, str):
            value = value.replace(",", "").replace("\u00a0", "").replace(" ", "")
        return super().to_python(value)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "class": "money"}


def _yes(value: str) -> bool:
    return value == "true"


def _length(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


def schema_field(name: str, spec: dict[str, Any]) -> forms.Field:
    """The form field for one schema entry (also for the start form's variable types)."""
    kind = spec["type"]
    required = bool(spec.get("required"))
    options = {
        "required": required,
        "label": spec.get("label") or name.replace("_", " ").capitalize(),
        "help_text": spec.get("help") or "",
        "initial": spec.get("default"),
    }
    low, high = spec.get("min"), spec.get("max")
    if kind in ("string", "text"):
        widget = forms.Textarea(attrs={"rows": 4}) if kind == "text" else forms.TextInput
        return forms.CharField(
            min_length=_length(low), max_length=_length(high), widget=widget, **options
        )
    if kind == "number":
        return NumberField(min_value=low, max_value=high, **options)
    if kind == "money":
        currency = spec.get("currency", "")
        options["label"] = f"{options['label']} ({currency})" if currency else options["label"]
        return MoneyField(min_value=low, max_value=high, **options)
    if kind == "integer":
        return forms.IntegerField(min_value=low, max_value=high, **options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind == "boolean" and not required:
        return forms.BooleanField(**options)
    if kind == "boolean":
        # A required yes/no must be answered: radio buttons with neither chosen at first.
        if options["initial"] is not None:
            options["initial"] = "true" if options["initial"] else "false"
        return forms.TypedChoiceField(
            choices=(("true", "Yes"), ("false", "No")),
            coerce=_yes,
            empty_value=None,
            widget=forms.RadioSelect,
            **options,
        )
    if kind == "choice":
        # Choices may be numbers: submit their text, give the service the value itself.
        values = {str(choice): choice for choice in spec.get("choices") or ()}
        return forms.TypedChoiceField(
            choices=[("", "Choose…"), *((text, text) for text in values)],
            coerce=values.__getitem__,
            empty_value=None,
            **options,
        )
    if kind in ("object", "array"):
        return StorableJSONField(widget=forms.Textarea(attrs={"rows": 3}), **options)
    raise ValueError(f"no form field for type {kind!r}")


class PageForm(forms.Form):
    """A form of the pages: labels without a colon, required ones marked."""

    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SchemaForm(PageForm):
    def __init__(self, *args: Any, schema: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, spec in schema.items():
            self.fields[name] = schema_field(name, spec)

    def values(self) -> dict[str, Any]:
        """The cleaned values as JSON data; fields left empty are left out."""
        return {
            name: value.isoformat() if isinstance(value, dt.date) else value
            for name, value in self.cleaned_data.items()
            if value is not None and value != ""
        }

    def add_service_errors(self, error: InvalidInput) -> None:
        """Show the service's verdict next to the fields it names."""
        if not error.field_errors:
            self.add_error(None, error.message)
        for name, problems in error.field_errors.items():
            if name in self.fields:
                self.add_error(name, problems)
            else:
                self.add_error(None, [f"{name}: {problem}" for problem in problems])


class TaskForm(SchemaForm):
    """A task's form; with a boolean `approved` field, an approval form.

    An approval form's decision comes from the Approve or Reject button pressed, so the
    decision field has no widget of its own on the page.
    """

    def __init__(self, *args: Any, schema: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, schema=schema, **kwargs)
        decision = schema.get(DECISION) or {}
        self.is_approval = decision.get("type") == "boolean"
        if self.is_approval:
            self.fields[DECISION] = forms.TypedChoiceField(
                choices=(("true", "Approve"), ("false", "Reject")),
                coerce=_yes,
                empty_value=None,
                required=bool(decision.get("required")),
                label=self.fields[DECISION].label,
            )

    def entry_fields(self) -> list[forms.BoundField]:
        """The fields a person fills in (an approval's decision is a pair of buttons)."""
        return [field for field in self if not (self.is_approval and field.name == DECISION)]


INBOX_TABS = {"mine": "My tasks", "queue": "Group queue", "done": "Done"}
INBOX_SORTS = {
    "due": "Due date",
    "created": "Newest",
    "priority": "Priority",
    "completed": "Last completed",
}
# A tab's order unless the person picks one: finished work is read newest first.
DEFAULT_SORTS = {"done": "completed"}


class InboxFilterForm(forms.Form):
    """The inbox's query string; a value that does not parse falls back to its default."""

    tab = forms.ChoiceField(choices=INBOX_TABS.items(), required=False)
    process = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All processes", label="Process"
    )
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Task or business key"}),
    )
    sort = forms.ChoiceField(choices=INBOX_SORTS.items(), required=False, label="Sort by")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["process"].queryset = inbox_definitions(user=user)
        self.fields["process"].label_from_instance = lambda definition: definition.name

    def criteria(self) -> dict[str, Any]:
        self.is_valid()
        data = self.cleaned_data
        process = data.get("process")
        queue = data.get("tab") or "mine"
        return {
            "queue": queue,
            "definition_id": process.pk if process else None,
            "search": data.get("q") or "",
            "order": data.get("sort") or DEFAULT_SORTS.get(queue, "due"),
        }


class ReassignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=users_assignable(),
        label="New assignee",
    )
