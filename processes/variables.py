"""Checking instance variables against the types a definition declares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from processes.engine.kinds import kind_of
from processes.errors import InvalidInput

VARIABLE_TYPES = ("string", "number", "integer", "boolean", "object", "array", "date")


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
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "date": _is_date,
}


def variables_check(*, declared: dict[str, str], values: Any) -> dict[str, Any]:
    """Return `values` if every declared variable present has its type; else InvalidInput.

    Undeclared variables are allowed (a definition declares what it relies on, not all it
    carries); a declared variable may be absent or null.
    """
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput("variables must be a JSON object")
    errors = {
        name: [f"must be of type {kind}, not {kind_of(values[name])}"]
        for name, kind in declared.items()
        if values.get(name) is not None and not CHECKS[kind](values[name])
    }
    if errors:
        names = ", ".join(sorted(errors))
        raise InvalidInput(f"wrong type for variable(s): {names}", field_errors=errors)
    return values
