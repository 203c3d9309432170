"""Parts of a definition that the JSON and YAML formats write the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from processes.dsl.fields import Section, check_condition, check_template, is_number, kind_of
from processes.dsl.graph import ALL_ERRORS, CatchRule, Condition, FormField, VariableSpec
from processes.dsl.outline import Links, Ref
from processes.variables import CHECKS, VARIABLE_TYPES

FORM_TYPES = ("string", "text", "number", "integer", "money", "boolean", "date", "choice")
USER_FIELDS = ("assignee", "candidate_users", "candidate_groups", "form", "due_date", "priority")


def read_input(section: Section, key: str = "input") -> Any:
    """A step's `input` (or a subprocess's `output`): an object whose strings may be
    ``${...}`` templates."""
    value = section.data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        section.problem(key, f"'{key}' must be an object, not {kind_of(value)}")
        return None
    return section.templates(key)


def read_start(document: Section, key: str, steps: list[Section], *, id_key: str) -> Ref | None:
    """The start step: the `key` field when present, else the first step's id."""
    if document.has(key):
        name = document.text(key, required=True)
        return Ref(name, document.at(key)) if name else None
    first = steps[0].data.get(id_key) if steps else None
    return Ref(first, steps[0].path) if isinstance(first, str) and first else None


def read_variables(document: Section) -> dict[str, VariableSpec]:
    """``{name: type}`` or ``{name: {type, required, label, help, default, currency}}``."""
    variables = document.section("variables")
    declared: dict[str, VariableSpec] = {}
    for name, spec in variables.data.items():
        if not isinstance(name, str) or not name.strip():
            variables.problem(str(name), "a variable name must be a non-empty string")
            continue
        type_name = _type_name(variables, name, spec, VARIABLE_TYPES)
        if not type_name:
            continue
        if not isinstance(spec, Mapping):
            if type_name == "money":
                variables.problem(name, "money needs a 'currency'; write it as an object")
            declared[name] = VariableSpec(type=type_name)
            continue
        section = Section(spec, variables.at(name), variables.problems, variables.step)
        default = spec.get("default")
        if default is not None and not CHECKS[type_name](default):
            section.problem("default", f"'default' must be of type {type_name}")
        declared[name] = VariableSpec(
            type=type_name,
            required=section.flag("required"),
            label=section.text("label"),
            help=section.text("help"),
            default=default,
            currency=_currency(section, type_name),
        )
    return declared


def _currency(spec: Section, type_name: str) -> str:
    """A money value's ISO 4217 code (`EUR`); only money has one, and it must."""
    if type_name != "money":
        if spec.has("currency"):
            spec.problem("currency", "only a money value has a 'currency'")
        return ""
    code = spec.text("currency", required=True)
    if code and not (len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()):
        spec.problem("currency", f"'{code}' is not an ISO 4217 currency code such as EUR or USD")
    return code


def read_user(section: Section) -> dict[str, Any]:
    """The Node fields of a user step; templates in assignee and candidates are checked."""
    assignee = section.text("assignee")
    check_template(assignee, section.at("assignee"), section.problems, step=section.step)
    candidates = {}
    for key in ("candidate_users", "candidate_groups"):
        names = section.names(key)
        for name, path in names:
            check_template(name, path, section.problems, step=section.step)
        candidates[key] = tuple(name for name, _ in names)
    return {
        "assignee": assignee,
        **candidates,
        "form": read_form(section.section("form")),
        "due_in_seconds": section.duration("due_date"),
        "priority": section.integer("priority", default=0),
    }


def read_form(form: Section) -> dict[str, FormField]:
    """``{field: type}`` or ``{field: {type, required, label, help, choices, min, max,
    default}}``."""
    fields: dict[str, FormField] = {}
    for name, spec in form.data.items():
        if not isinstance(name, str) or not name.strip():
            form.problem(str(name), "a form field name must be a non-empty string")
            continue
        type_name = _type_name(form, name, spec, FORM_TYPES)
        if not type_name:
            continue
        if isinstance(spec, Mapping):
            spec_section = Section(spec, form.at(name), form.problems, form.step)
            fields[name] = _form_field(spec_section, type_name)
        else:
            if type_name in ("choice", "money"):
                needs = "'choices'" if type_name == "choice" else "a 'currency'"
                form.problem(name, f"a {type_name} field needs {needs}; write it as an object")
            fields[name] = FormField(type=type_name)
    return fields


def _form_field(spec: Section, type_name: str) -> FormField:
    choices = tuple(_choices(spec))
    if type_name == "choice" and not choices:
        spec.problem("choices", "a choice field needs a non-empty list of 'choices'")
    low = spec.number("min", default=None)
    high = spec.number("max", default=None)
    if low is not None and high is not None and low > high:
        spec.problem("max", "'max' must not be less than 'min'")
    default = spec.data.get("default")
    if choices and default is not None and default not in choices:
        spec.problem("default", "'default' must be one of the choices")
    return FormField(
        type=type_name,
        required=spec.flag("required"),
        label=spec.text("label"),
        help=spec.text("help"),
        choices=choices,
        min=low,
        max=high,
        default=default,
        currency=_currency(spec, type_name),
    )


def _choices(spec: Section) -> list[Any]:
    value = spec.data.get("choices")
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, str) or is_number(item) for item in value
    ):
        spec.problem("choices", "'choices' must be a list of strings or numbers")
        return []
    return value


def _type_name(parent: Section, name: str, spec: Any, allowed: tuple[str, ...]) -> str:
    """The type of a variable or form field written as "type" or as {"type": "type"}."""
    if isinstance(spec, Mapping):
        type_name = Section(spec, parent.at(name), parent.problems, parent.step).text(
            "type", required=True
        )
        path_key: str | None = "type"
    elif isinstance(spec, str):
        type_name, path_key = spec, None
    else:
        parent.problem(name, f"'{name}' must be a type name or an object, not {kind_of(spec)}")
        return ""
    if type_name and type_name not in allowed:
        where = parent.at(name) if path_key is None else f"{parent.at(name)}/{path_key}"
        parent.problems.add(
            where,
            f"unknown type '{type_name}' for '{name}' (expected one of: {', '.join(allowed)})",
            step=parent.step,
        )
        return ""
    return type_name


def error_names(section: Section, *keys: str) -> tuple[str, ...]:
    """The error names under the first of `keys` present; default: every error."""
    key = next((k for k in keys if section.has(k)), None)
    if key is None:
        return (ALL_ERRORS,)
    names = tuple(name for name, _ in section.names(key))
    if not names and isinstance(section.data.get(key), list):
        section.problem(key, f"'{key}' must name at least one error")
    return names or (ALL_ERRORS,)


def link_all(names: list[tuple[str, str]], link: Links) -> None:
    """Record targets a step may not have, so the steps they name still count as reached."""
    for target, path in names:
        link(target, path)


def read_catch(step: Section, key: str, link: Links) -> tuple[CatchRule, ...]:
    """``[{errorEquals | error_equals, next}]``: where a step goes when it fails for good."""
    rules = []
    for rule in step.sections(key):
        errors = error_names(rule, "errorEquals", "error_equals")
        target = rule.text("next", required=True)
        if target:
            rules.append(CatchRule(error_equals=errors, next=link(target, rule.at("next"))))
    return tuple(rules)


def read_conditions(
    section: Section,
    key: str,
    *,
    expression_key: str,
    link: Links,
    gateway: str = "an exclusive gateway",
    required: bool = True,
) -> tuple[Condition, ...]:
    """``[{<expression_key>, next}]`` of a gateway, each expression checked."""
    if isinstance(section.data.get(key), list) and not section.data[key]:
        section.problem(key, f"{gateway} needs at least one condition")
    conditions = []
    for item in section.sections(key, required=required):
        expression = item.text(expression_key, required=True)
        if expression:
            check_condition(expression, item.at(expression_key), item.problems, step=item.step)
        target = item.text("next", required=True)
        if expression and target:
            conditions.append(Condition(expression, link(target, item.at("next"))))
    return tuple(conditions)


def exclusive_default(
    step: Section,
    next_names: list[tuple[str, str]],
    default: tuple[str, str] | None,
    link: Links,
    *,
    gateway: str = "an exclusive gateway",
) -> str:
    """A gateway's default target; a lone `next` is taken as the default."""
    if next_names and (default is not None or len(next_names) > 1):
        step.problem(
            "next",
            f"{gateway} goes by its conditions: give at most one 'next', which"
            " acts as the default, and then no separate 'default'",
        )
        link_all(next_names, link)
        next_names = []
    chosen = default or (next_names[0] if next_names else None)
    return link(*chosen) if chosen else ""
