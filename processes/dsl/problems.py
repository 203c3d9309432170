"""What is wrong with a definition, and where: a JSON pointer, the step and the line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str  # JSON pointer into the document, e.g. "/steps/2/next/0"; "" is the whole document
    message: str
    step: str | None = None  # the id of the step the problem is in
    line: int | None = None  # 1-based line in the source, when known

    def __str__(self) -> str:
        where = self.path or "document"
        if self.line is not None:
            where = f"line {self.line}, {where}"
        return f"{where}: {self.message}"


class DefinitionError(ValueError):
    """A definition that does not compile; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} in the definition"
        return "; ".join([summary, *(str(p) for p in self.problems)])


def child(path: str, key: str | int) -> str:
    """The JSON pointer of `key` inside the value at `path` (RFC 6901 escaping)."""
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


class Problems:
    """Collects problems; fills in each one's line from a pointer -> line map of the source."""

    def __init__(self, lines: Mapping[str, int] | None = None) -> None:
        self.lines = lines or {}
        self.found: list[Problem] = []

    def add(
        self, path: str, message: str, *, step: str | None = None, line: int | None = None
    ) -> None:
        self.found.append(Problem(path, message, step, line or self.line_of(path)))

    def line_of(self, path: str) -> int | None:
        # A missing field has no line of its own: use the closest enclosing value that has one.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path.rpartition("/")[0]
