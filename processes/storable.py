"""What PostgreSQL cannot store, found before it is written.

Variables, form values, results and definitions end up in `jsonb` and `text` columns. Those
hold neither NUL characters nor lone UTF-16 surrogates (JSON's `"\\ud800"` decodes to one,
and UTF-8 cannot encode it), and jsonb holds no infinite numbers. Writing any of them fails
inside the database; finding them first lets callers answer 400 and name the field.
"""

from __future__ import annotations

import math
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored in a text or jsonb column, or None."""
    if "\x00" in text:
        return "text may not contain NUL (\\u0000) characters"
    found = _LONE_SURROGATE.search(text)
    if found:
        return f"text may not contain a lone surrogate (\\u{ord(found.group()):04x})"
    return None


def unstorable(data: Any, *, at: str = "") -> tuple[str, str] | None:
    """The first value in `data` PostgreSQL cannot store: (where, why), or None.

    `where` names the field the way a person writes it: `variables.note`, `items[2].name`;
    a bad key is named by its own path.
    """
    pending: list[tuple[Any, str]] = [(data, at)]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return path or "body", problem
        elif isinstance(value, float):
            if not math.isfinite(value):
                return path or "body", "numbers must be finite"
        elif isinstance(value, dict):
            for key, item in value.items():
                key_path = field_path(path, key)
                if isinstance(key, str) and (problem := text_problem(key)):
                    return key_path, f"the name {problem.removeprefix('text ')}"
                pending.append((item, key_path))
        elif isinstance(value, list | tuple):
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return None


def field_path(path: str, key: Any) -> str:
    """`variables` + `note` -> `variables.note`; unprintable keys shown escaped."""
    name = str(key)
    if text_problem(name):
        name = name.encode("unicode_escape", "backslashreplace").decode("ascii")
    return f"{path}.{name}" if path else name
