"""Engine data as people read it: values, variables, priorities, times.

Pages get lists prepared here, never a template's attribute lookup on user data: a variable
named `items` or `keys` is a variable, not a method of the dict holding it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import formats, timezone

# A value longer than this is shown folded, with "show all".
FOLD_CHARS = 300
# A list of more entries than this shows the first ones and folds the rest.
FOLD_ROWS = 40
# Readable text of nested lists and objects stops here: the folded view has the rest.
MAX_TEXT_CHARS = 20_000

PRIORITY_LABELS = ((2, "Urgent"), (1, "High"), (0, "Normal"))


@dataclass(frozen=True)
class Shown:
    """One named value on a page: its label, its text, and the start of it when folded."""

    name: str
    label: str
    text: str

    @property
    def folded(self) -> bool:
        return len(self.text) > FOLD_CHARS

    @property
    def short(self) -> str:
        return self.text[:FOLD_CHARS].rstrip() + "…" if self.folded else self.text


@dataclass(frozen=True)
class ShownList:
    """Named values split into what shows at once and what "show all" unfolds."""

    first: list[Shown]
    rest: list[Shown]

    def __bool__(self) -> bool:
        return bool(self.first)

    def __len__(self) -> int:
        return len(self.first) + len(self.rest)

    @property
    def total(self) -> str:
        return f"{len(self):,}"


def label_of(name: str) -> str:
    """`business_key` -> "Business key", as generated form labels read."""
    return name.replace("_", " ").capitalize()


def step_label(name: str, step_id: str) -> str:
    """A step as people read it: its name; a YAML state's name is its id (`hr_approval`), so
    an id-like name reads as words ("Hr approval")."""
    if name and name != step_id:
        return name
    return label_of(step_id.replace("-", "_"))


def shown_values(
    values: Mapping[str, Any], *, specs: Mapping[str, Any] | None = None, names=None
) -> ShownList:
    """`values` (all, or those in `names`, in that order) as a ShownList.

    `specs` (variable declarations or form fields) give labels and currencies.
    """
    specs = specs or {}
    order = list(values) if names is None else [n for n in names if n in values]
    shown = []
    for name in order:
        spec = specs.get(name)
        label = getattr(spec, "label", "") or _get(spec, "label") or label_of(str(name))
        currency = getattr(spec, "currency", "") or _get(spec, "currency")
        shown.append(Shown(str(name), label, display_value(values[name], currency=currency)))
    return ShownList(shown[:FOLD_ROWS], shown[FOLD_ROWS:])


def _get(spec: Any, key: str) -> str:
    return spec.get(key) or "" if isinstance(spec, Mapping) else ""


def display_value(value: Any, *, currency: str = "") -> str:
    """A value as a person reads it: 5,000 / 1,250.00 EUR / Yes / Sku: A-1 · Qty: 2."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int) and currency:
        return f"{value:,}.00 {currency}"  # exact, however many digits
    if isinstance(value, float) and currency:
        return f"{value:,.2f} {currency}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, Mapping | list | tuple):
        return _readable(value)[:MAX_TEXT_CHARS]
    if isinstance(value, str) and (moment := _datetime(value)):
        return when(moment)
    return str(value)


def _readable(value: Any, depth: int = 0) -> str:
    """Lists and objects as text: `A, B`; `Sku: A-1 · Qty: 2`; entries of a list of objects
    separated by `;`. Deeper levels go in parentheses."""
    if isinstance(value, Mapping):
        parts = [f"{label_of(str(k))}: {_nested(v, depth)}" for k, v in value.items()]
        return " · ".join(parts) if parts else "—"
    if isinstance(value, list | tuple):
        nested = any(isinstance(item, Mapping | list | tuple) for item in value)
        parts = [_nested(item, depth) for item in value]
        return ("; " if nested else ", ").join(parts) if parts else "—"
    return display_value(value)


def _nested(value: Any, depth: int) -> str:
    if not isinstance(value, Mapping | list | tuple):
        return display_value(value)
    if depth >= 3:
        return "…"
    text = _readable(value, depth + 1)
    return f"({text})" if depth else text


def _datetime(text: str) -> dt.datetime | None:
    """An ISO date-time with a time of day (a bare date stays as written)."""
    if len(text) < 16 or len(text) > 40 or text[10:11] not in ("T", " "):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def when(moment: dt.datetime | None) -> str:
    """Every date and time on the pages in one format, with its time zone: 1 Mar 2026 14:05 UTC."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'j M Y H:i')} {local.tzname()}"


def priority_label(priority: int) -> str:
    """0 Normal, 1 High, 2 and above Urgent, below 0 Low."""
    for floor, label in PRIORITY_LABELS:
        if priority >= floor:
            return label
    return "Low"
