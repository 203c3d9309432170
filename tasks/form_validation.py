"""Checking the values a person submits against a user step's form schema.

The schema is the step's `form` as stored on the task: field -> {type, required, label,
help, choices, min, max, default}. `min`/`max` bound a number's value and a text's length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from processes.dsl.graph import VariableSpec
from processes.errors import InvalidInput
from processes.variables import CHECKS, storable_check, variables_check

FORM_TYPES = {
    "string": "string",
    "text": "string",
    "number": "number",
    "integer": "integer",
    "money": "money",
    "boolean": "boolean",
    "date": "date",
}


def form_clean(
    *,
    form: dict[str, dict[str, Any]],
    values: Any,
    declared: Mapping[str, VariableSpec] | None = None,
) -> dict[str, Any]:
    """Return the values to merge into the instance, or raise InvalidInput with field errors.

    With a form, only its fields are accepted. A step without one accepts only the
    variables the definition declares (`declared`), with their types: a person completing
    a task must not be able to rewrite whatever steers the rest of the process.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise InvalidInput("variables must be a JSON object")
    storable_check(values)
    if not form:
        declared = declared or {}
        unknown = {
            name: ["is not a variable this process declares"]
            for name in values
            if name not in declared
        }
        if unknown:
            raise InvalidInput(
                "this step has no form; it accepts only the process's declared variables: "
                + ", ".join(sorted(unknown)),
                field_errors=unknown,
            )
        return variables_check(declared=declared, values=values)
    errors: dict[str, list[str]] = {
        name: ["is not a field of this form"] for name in values if name not in form
    }
    cleaned: dict[str, Any] = {}
    for name, field in form.items():
        value = values.get(name, field.get("default"))
        if value is None or value == "":
            if field.get("required"):
                errors[name] = ["this field is required"]
            continue
        problem = _field_problem(field, value)
        if problem:
            errors[name] = [problem]
        else:
            cleaned[name] = value
    if errors:
        raise InvalidInput("the form has errors: " + ", ".join(sorted(errors)), field_errors=errors)
    # A field named like a declared variable writes that variable: it keeps its type.
    return variables_check(declared=declared or {}, values=cleaned)


def _field_problem(field: dict[str, Any], value: Any) -> str | None:
    kind = field["type"]
    if kind == "choice":
        choices = list(field.get("choices") or ())
        return None if value in choices else f"must be one of {choices}"
    if not CHECKS[FORM_TYPES[kind]](value):
        return f"must be a {kind}"
    low, high = field.get("min"), field.get("max")
    measure = len(value) if isinstance(value, str) else value
    if isinstance(value, bool) or not isinstance(measure, int | float):
        return None
    unit = " characters" if isinstance(value, str) else ""
    if low is not None and measure < low:
        return f"must be at least {low:g}{unit}"
    if high is not None and measure > high:
        return f"must be at most {high:g}{unit}"
    return None
