"""Typed reads of one object of a definition document; a wrong field becomes a Problem.

Every read returns a usable value (the default when the field is wrong), so reading goes on
and one pass over the document reports every problem in it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from processes.dsl.durations import parse_duration
from processes.dsl.problems import Problems, child
from processes.engine.expressions import ExpressionError, parse, parse_condition
from processes.engine.kinds import kind_of
from processes.storable import text_problem


class Section:
    """One JSON object of the document at `path`, inside step `step` (None: not in a step)."""

    def __init__(
        self, data: Mapping[Any, Any], path: str, problems: Problems, step: str | None = None
    ) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.step = step

    def at(self, key: str | int) -> str:
        return child(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def problem(self, key: str | int, message: str) -> None:
        self.problems.add(self.at(key), message, step=self.step)

    def missing(self, key: str) -> None:
        self.problem(key, f"missing required field '{key}'")

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.missing(key)
            return default
        if not isinstance(value, str):
            self.problem(key, f"'{key}' must be a string, not {kind_of(value)}")
            return default
        if required and not value.strip():
            self.problem(key, f"'{key}' must not be empty")
            return default
        return value

    def label(self, key: str) -> str:
        """A free-text field where authors may write a number (`version: 1.0`)."""
        value = self.data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return self.text(key)

    def names(self, key: str, *, single: bool = False) -> list[tuple[str, str]]:
        """Non-empty strings as (value, pointer); one string counts as a one-item list.

        With `single`, the field must be one string (a YAML `next`); a list there is a
        problem, but its strings are still returned so that the steps they name count as
        reached.
        """
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            items: list[Any] = [value]
            paths = [self.at(key)]
        elif isinstance(value, list):
            if single:
                self.problem(key, f"'{key}' must be a string, not a list")
            items = value
            paths = [child(self.at(key), index) for index in range(len(value))]
        else:
            expected = "a string" if single else "a string or a list of strings"
            self.problem(key, f"'{key}' must be {expected}, not {kind_of(value)}")
            return []
        found = []
        for item, path in zip(items, paths, strict=True):
            if isinstance(item, str) and item.strip():
                found.append((item, path))
            else:
                self.problems.add(path, f"'{key}' must hold non-empty strings", step=self.step)
        return found

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.problem(key, f"'{key}' must be true or false, not {kind_of(value)}")
            return False
        return value

    def integer(self, key: str, *, default: int, minimum: int | None = None) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"'{key}' must be a whole number, not {kind_of(value)}")
            return default
        if minimum is not None and value < minimum:
            self.problem(key, f"'{key}' must be at least {minimum}")
            return default
        return value

    def number(self, key: str, *, default: float | None, minimum: float | None = None) -> Any:
        value = self.data.get(key)
        if value is None:
            return default
        if not is_number(value):
            self.problem(key, f"'{key}' must be a number, not {kind_of(value)}")
            return default
        if minimum is not None and value < minimum:
            self.problem(key, f"'{key}' must be at least {minimum:g}")
            return default
        return value

    def duration(self, key: str, *, default: float | None = None, positive: bool = True) -> Any:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            self.problem(key, f"'{key}': {error}")
            return default
        if positive and seconds == 0:
            self.problem(key, f"'{key}' must be longer than zero")
            return default
        return seconds

    def section(self, key: str) -> Section:
        """The object under `key`; an empty one when absent or wrong, so reads can go on."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, Mapping):
            self.problem(key, f"'{key}' must be an object, not {kind_of(value)}")
        data = value if isinstance(value, Mapping) else {}
        return Section(data, self.at(key), self.problems, self.step)

    def sections(self, key: str, *, required: bool = False) -> list[Section]:
        """The objects listed under `key`; items that are not objects are problems."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.missing(key)
            return []
        return sections_of(value, self.at(key), self.problems, step=self.step)

    def templates(self, key: str) -> Any:
        """The value under `key` with each ``${...}`` inside checked for syntax."""
        value = self.data.get(key)
        pending = [(value, self.at(key))]
        while pending:  # a loop, not recursion: documents can nest deeper than the stack
            item, path = pending.pop()
            if isinstance(item, str):
                check_template(item, path, self.problems, step=self.step)
            elif isinstance(item, Mapping):
                pending.extend((v, child(path, k)) for k, v in item.items())
            elif isinstance(item, list):
                pending.extend((v, child(path, i)) for i, v in enumerate(item))
        return value


def sections_of(value: Any, path: str, problems: Problems, *, step: str | None) -> list[Section]:
    """The objects of the list `value` at `path`; anything else in it is a problem."""
    if not isinstance(value, list):
        problems.add(path, f"must be a list, not {kind_of(value)}", step=step)
        return []
    found = []
    for index, item in enumerate(value):
        item_path = child(path, index)
        if isinstance(item, Mapping):
            found.append(Section(item, item_path, problems, step))
        else:
            problems.add(item_path, f"must be an object, not {kind_of(item)}", step=step)
    return found


MAX_VALUES = 100_000


def check_plain_data(data: Any, problems: Problems) -> bool:
    """Report values a definition cannot hold; False when the document is too big to read.

    A compiled graph is stored as JSON, so only JSON's values are allowed: no infinite
    numbers, no NUL characters, no YAML dates, sets or binaries, and only string keys.
    Counting every visit bounds the work on YAML documents that alias the same list over
    and over.
    """
    pending: list[tuple[Any, str]] = [(data, "")]
    visits = 0
    while pending:
        value, path = pending.pop()
        visits += 1
        if visits > MAX_VALUES:
            problems.add("", f"the document holds more than {MAX_VALUES} values")
            return False
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.add(child(path, str(key)), f"keys must be strings, not {kind_of(key)}")
                elif problem := text_problem(key):
                    problems.add(path, f"a key's {problem} (PostgreSQL cannot store it)")
                pending.append((item, child(path, str(key))))
        elif isinstance(value, list):
            pending.extend((item, child(path, index)) for index, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.add(path, "numbers must be finite")
        elif isinstance(value, str) and (problem := text_problem(value)):
            problems.add(path, f"{problem} (PostgreSQL cannot store it)")
        elif not (value is None or isinstance(value, (str, int, float))):
            problems.add(path, f"{kind_of(value)} cannot be used here; write it as a string")
    return True


def check_template(text: str, path: str, problems: Problems, *, step: str | None) -> None:
    if "${" not in text:
        return
    try:
        parse(text)
    except ExpressionError as error:
        problems.add(path, f"bad expression: {error}", step=step)


def check_condition(text: str, path: str, problems: Problems, *, step: str | None) -> None:
    """A gateway condition is a template (``${a > 1}``) or a bare expression (``a > 1``)."""
    try:
        parse_condition(text)
    except ExpressionError as error:
        problems.add(path, f"bad expression: {error}", step=step)


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
