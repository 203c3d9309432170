"""Compiling a definition's text in one of its formats to the Graph (see `processes.dsl`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from processes.dsl.graph import Graph
from processes.dsl.json_format import read_json
from processes.dsl.outline import Outline
from processes.dsl.problems import DefinitionError, Problem, Problems
from processes.dsl.validation import build_graph
from processes.dsl.yaml_format import read_yaml
from processes.storable import text_problem

_SUFFIX_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}

_READERS: dict[str, Callable[[str], tuple[Outline | None, Problems]]] = {
    "json": read_json,
    "yaml": read_yaml,
    "yml": read_yaml,
}


def compile_definition(
    source: str, format: str, *, service_exists: Callable[[str], bool] | None = None
) -> Graph:
    """Compile `source`, written in `format` ("json" or "yaml"), to a Graph.

    With `service_exists`, service steps must name services it knows.
    """
    reader = _READERS.get(format.lower()) if isinstance(format, str) else None
    if reader is None:
        raise DefinitionError([Problem("", f"unknown format {format!r}: use json or yaml")])
    if not isinstance(source, str):
        raise DefinitionError([Problem("", "the definition must be text")])
    if problem := text_problem(source):
        raise DefinitionError([Problem("", f"the definition's {problem}")])
    try:
        outline, problems = reader(source)
        graph = build_graph(outline, problems, service_exists=service_exists) if outline else None
    except RecursionError:  # a YAML parallel nested hundreds of levels deep
        raise DefinitionError([Problem("", "the document is nested too deeply")]) from None
    if graph is None:
        raise DefinitionError(problems.found)
    return graph


def format_of_file(name: str) -> str | None:
    """The definition format a file name's suffix says (json or yaml), or None."""
    return _SUFFIX_FORMATS.get(PurePath(name).suffix.lower())
