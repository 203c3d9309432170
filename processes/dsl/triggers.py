"""Start triggers as written, the same in both formats (a top-level `triggers` list):
``[{"cron": "0 9 * * MON-FRI"}, {"every": "1h"}, {"message": "order-placed"}]``, each with
optional start `variables`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from processes.dsl.fields import Section
from processes.dsl.graph import StartTrigger, VariableSpec
from processes.engine.schedules import cron_problem
from processes.errors import InvalidInput
from processes.variables import start_variables, variables_check

TRIGGER_KINDS = ("cron", "every", "message")
TRIGGER_KEYS = (*TRIGGER_KINDS, "variables")
MIN_EVERY_SECONDS = 1.0  # the sweeper looks about once a second: a shorter interval means nothing
MAX_SPEC_LENGTH = 200  # what a Trigger row's spec holds
MAX_TRIGGERS = 100  # each is a row, made at every publish


def read_triggers(
    document: Section, *, declared: Mapping[str, VariableSpec], strict: bool
) -> tuple[StartTrigger, ...]:
    """The `triggers` of `document`; `declared` and `strict` are the definition's variables,
    which each trigger's start variables must satisfy."""
    triggers = []
    messages: dict[str, str] = {}  # message name -> where its first trigger names it
    items = document.sections("triggers")
    if len(items) > MAX_TRIGGERS:
        document.problem("triggers", f"a definition may have at most {MAX_TRIGGERS} triggers")
        return ()
    for item in items:
        trigger = _read_trigger(item, declared, strict)
        if trigger is None:
            continue
        if trigger.kind == "message":
            first = messages.setdefault(trigger.spec, item.at("message"))
            if first != item.at("message"):
                item.problem(
                    "message", f"message '{trigger.spec}' already has a trigger at {first}"
                )
                continue
        triggers.append(trigger)
    return tuple(triggers)


def _read_trigger(
    item: Section, declared: Mapping[str, VariableSpec], strict: bool
) -> StartTrigger | None:
    for key in item.data:
        if key not in TRIGGER_KEYS:
            expected = ", ".join(TRIGGER_KEYS)
            item.problem(str(key), f"unknown key '{key}' in a trigger (expected: {expected})")
    kinds = [key for key in TRIGGER_KINDS if key in item.data]
    if not kinds:
        item.problems.add(item.path, "a trigger needs one of 'cron', 'every' or 'message'")
        return None
    if len(kinds) > 1:
        item.problem(
            kinds[1],
            f"give one of 'cron', 'every' or 'message', not both '{kinds[0]}' and '{kinds[1]}'",
        )
        return None
    kind = kinds[0]
    spec = _SPEC_READERS[kind](item)
    if spec and len(spec) > MAX_SPEC_LENGTH:
        item.problem(kind, f"'{kind}' must be at most {MAX_SPEC_LENGTH} characters")
        spec = ""
    variables = _read_variables(item, kind, declared, strict)
    if not spec or variables is None:
        return None
    return StartTrigger(kind=kind, spec=spec, variables=variables)


def _read_cron(item: Section) -> str:
    # One space between fields, so the history and the admin show one spelling.
    expression = " ".join(item.text("cron", required=True).split())
    if not expression:
        return ""
    problem = cron_problem(expression)
    if problem:
        item.problem("cron", problem)
        return ""
    return expression


def _read_every(item: Section) -> str:
    seconds = item.duration("every")
    if seconds is None:  # the field is there: its problem is reported
        return ""
    if seconds < MIN_EVERY_SECONDS:
        item.problem("every", f"'every' must be at least {MIN_EVERY_SECONDS:g} second")
        return ""
    return str(item.data["every"]).strip()


def _read_message(item: Section) -> str:
    return item.text("message", required=True)


_SPEC_READERS: dict[str, Callable[[Section], str]] = {
    "cron": _read_cron,
    "every": _read_every,
    "message": _read_message,
}


def _read_variables(
    item: Section, kind: str, declared: Mapping[str, VariableSpec], strict: bool
) -> dict | None:
    """The trigger's start variables as written, checked as a start checks them; None when
    they would be refused. A scheduled start has nothing else, so a required variable must
    be here; a message may bring its own."""
    section = item.section("variables")
    if item.has("variables") and not isinstance(item.data["variables"], Mapping):
        return None
    values = dict(section.data)
    try:
        if kind == "message":
            variables_check(declared=declared, values=values, strict=strict)
        else:
            start_variables(declared=declared, values=values, strict=strict)
    except InvalidInput as error:
        for name, reasons in error.field_errors.items():
            for reason in reasons:
                section.problem(name, f"variable '{name}' {reason}")
        return None
    return values
