"""The JSON format: ``{name, key?, variables, triggers?, retention?, start?, steps: [{id,
name, type, config, next}]}``.

Step types: those of the node kinds (`processes.nodes.JSON_KINDS`: service_task, user_task,
exclusive_gateway, parallel_gateway, end, fail), each read by its kind, and the registered
step types (`http`, `publish`, user code's: `processes.nodes.step_types`). A step without
`next` ends its path; a step with several forks in parallel.
"""

from __future__ import annotations

import json
import re
from typing import Any

from processes.dsl.fields import Section, check_plain_data, kind_of
from processes.dsl.graph import Node
from processes.dsl.outline import Draft, Links, Outline
from processes.dsl.parts import link_all, read_start, read_variables
from processes.dsl.problems import Problems, child
from processes.dsl.triggers import read_triggers
from processes.nodes import json_kind, json_type_names
from processes.nodes.boundary import boundary_refuse


def read_json(source: str) -> tuple[Outline | None, Problems]:
    """Parse `source`; the Outline is None when the text is not a usable JSON document."""
    problems = Problems()
    try:
        data = json.loads(source, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        problems.add("", f"invalid JSON: {error.msg} ({where})", line=error.lineno)
        return None, problems
    except (ValueError, RecursionError) as error:  # NaN, 5000-digit numbers, deep nesting
        problems.add("", f"invalid JSON: {_describe(error)}")
        return None, problems
    problems = Problems(json_lines(source))
    if not check_plain_data(data, problems):
        return None, problems
    if not isinstance(data, dict):
        problems.add("", f"a definition must be a JSON object, not {kind_of(data)}")
        return None, problems
    return _read_document(Section(data, "", problems)), problems


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in JSON")


def _describe(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "the document is nested too deeply"
    return str(error)


def _read_document(document: Section) -> Outline:
    name = document.text("name", required=True)
    key = document.text("key", required=True) if document.has("key") else name
    description = document.text("description")
    version_label = document.label("version")
    variables = read_variables(document)
    strict_variables = document.flag("strict_variables")
    triggers = read_triggers(document, declared=variables, strict=strict_variables)
    retention = document.duration("retention")
    steps = document.sections("steps", required=True)
    drafts = [draft for step in steps if (draft := _read_step(step)) is not None]
    if document.data.get("steps") == []:
        document.problem("steps", "a definition needs at least one step")
    return Outline(
        key=key,
        name=name,
        start=read_start(document, "start", steps, id_key="id"),
        drafts=drafts,
        description=description,
        version_label=version_label,
        variables=variables,
        strict_variables=strict_variables,
        triggers=triggers,
        retention=retention,
    )


def _read_step(step: Section) -> Draft | None:
    step_id = step.text("id", required=True)
    step.step = step_id or None
    name = step.text("name", default=step_id)
    type_name = step.text("type", required=True)
    config = step.section("config")
    next_names = step.names("next")
    link = Links()
    kind = json_kind(type_name)
    if kind is None:
        if type_name:
            expected = ", ".join(json_type_names())
            step.problem("type", f"unknown step type '{type_name}' (expected one of: {expected})")
        link_all(next_names, link)
        return Draft(step_id, step.path, None, link.refs) if step_id else None
    fields = kind.read_json(step, config, next_names, link)
    boundary_refuse(kind, config, kind.json_type)
    if not step_id:
        return None
    node = Node(id=step_id, name=name, type=kind.type, **fields)
    return Draft(step_id, step.path, node, link.refs, service_path=config.at("service_name"))


# A JSON document's lexemes: strings, punctuation, and the rest (numbers, true, false, null).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def json_lines(source: str) -> dict[str, int]:
    """Map each JSON pointer of a valid JSON document to the 1-based line it starts on.

    A member's line is its key's. One pass over the lexemes with an explicit stack, so no
    nesting depth that `json.loads` accepts can exhaust Python's.
    """
    lines: dict[str, int] = {}
    stack: list[list[Any]] = []  # [pointer, next item index] per container; index None: object
    pending, expect_key = "", False
    line, last = 1, 0
    for match in _TOKEN.finditer(source):
        lexeme, start = match.group(), match.start()
        line += source.count("\n", last, start)
        last = start
        if lexeme in ("}", "]"):
            stack.pop()
        elif lexeme == ",":
            container = stack[-1]
            expect_key = container[1] is None
            if not expect_key:
                container[1] += 1
                pending = child(container[0], container[1])
        elif lexeme == ":":
            continue
        elif expect_key:
            pending = child(stack[-1][0], json.loads(lexeme))
            lines[pending] = line
            expect_key = False
        else:
            lines.setdefault(pending, line)
            if lexeme == "{":
                stack.append([pending, None])
                expect_key = True
            elif lexeme == "[":
                stack.append([pending, 0])
                pending = child(pending, 0)
    return lines
