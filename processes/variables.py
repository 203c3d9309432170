"""Checking instance variables against what a definition declares, and what can be stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from processes.engine.kinds import kind_of
from processes.errors import InvalidInput
from processes.settings import engine_setting
from processes.storable import unstorable

if TYPE_CHECKING:
    from processes.dsl.graph import VariableSpec

VARIABLE_TYPES = ("string", "number", "integer", "money", "boolean", "object", "array", "date")


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return False
    return len(value) == 10 or _is_datetime(value)


def _is_datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "money": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "date": _is_date,
}


def variables_check(
    *, declared: Mapping[str, VariableSpec], values: Any, strict: bool = False
) -> dict[str, Any]:
    """Return `values` if every declared variable present has its type; else InvalidInput
    naming every bad field.

    Undeclared variables are allowed unless `strict` (a definition declares what it relies
    on, not all it carries); a declared variable may be absent or null. Values PostgreSQL
    cannot store and a total over `FLOWDESK_MAX_VARIABLES_BYTES` are refused too.
    """
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput("variables must be a JSON object")
    errors = {
        name: [f"must be of type {spec.type}, not {kind_of(values[name])}"]
        for name, spec in declared.items()
        if values.get(name) is not None and not CHECKS[spec.type](values[name])
    }
    if strict:
        errors |= {
            name: ["is not a variable this process declares"]
            for name in values
            if name not in declared
        }
    _raise_if(errors)
    storable_check(values)
    return values


def storable_check(values: Any) -> None:
    """InvalidInput naming the first value PostgreSQL cannot store (NUL, lone surrogate...)."""
    problem = unstorable(values)
    if problem:
        where, why = problem
        raise InvalidInput(f"{where}: {why}", field_errors={where: [why]})


def start_variables(*, declared: Mapping[str, VariableSpec], values: Any, strict: bool) -> dict:
    """The variables an instance starts with: `values` with the declared defaults filled in.

    Refuses (InvalidInput naming every field) a required variable that is missing or
    empty, a value of the wrong type and, with `strict`, an undeclared name.
    """
    given = variables_check(declared=declared, values=values, strict=strict)
    filled = {
        name: spec.default
        for name, spec in declared.items()
        if _empty(given.get(name)) and spec.default is not None
    }
    values = {**given, **filled}
    _raise_if(
        {
            name: ["is required"]
            for name, spec in declared.items()
            if spec.required and _empty(values.get(name))
        }
    )
    return values


def json_size(values: Any) -> int:
    """The bytes `values` take as JSON (UTF-8), as the variables' limit counts them."""
    return len(json.dumps(values, ensure_ascii=False, default=str).encode("utf-8", "replace"))


def variables_size_check(values: dict[str, Any]) -> None:
    """InvalidInput when the variables together take more than the configured bytes."""
    limit = engine_setting("MAX_VARIABLES_BYTES")
    size = json_size(values)
    if size > limit:
        raise InvalidInput(
            f"the variables take {size:,} bytes, more than the {limit:,} allowed "
            "(FLOWDESK_MAX_VARIABLES_BYTES): store large documents elsewhere and keep a reference",
            field_errors={"variables": [f"{size:,} bytes is over the limit of {limit:,}"]},
        )


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        names = ", ".join(sorted(errors))
        raise InvalidInput(f"invalid variable(s): {names}", field_errors=errors)
