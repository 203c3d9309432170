"""Steps of a registered step type (`processes.registry.step_type`): `http`, `publish` and
the ones user code registers. Each is read as a service step running the step type's
service (``flowdesk:step:NAME``), so a worker runs it under a lease with its timeout,
retries, catch and boundary events like any service step; this module only reads it.

JSON ``{"type": "NAME", "config": {...}}``: the config is the step type's own, checked
against its JSON Schema, except the engine's keys `timeout`, `retry_policy`, `catch`,
`boundary` and `for_each`, read as a service step's. YAML ``type: task`` with ``resource:
"flowdesk:step:NAME"`` and ``config: {...}``; `timeout`, `retry`, `catch` and `boundary`
are the state's, as for any task. Either way `timeout` is also handed to the step in its
config (the `http` step bounds its request with it).

Every schema problem is reported at its JSON pointer inside the step's config. A value
that holds a ``${...}`` template is checked when the step runs, rendered
(`processes.registry`: error `StepConfigInvalid`), since only then is its value known;
unless its schema says ``"x-literal": true`` (a secret's name), which no template may give.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from processes.dsl.problems import child
from processes.nodes.base import Names, YamlPlace
from processes.nodes.boundary import read_boundary
from processes.nodes.loop import read_for_each
from processes.nodes.service import ServiceKind, json_retry, yaml_retry
from processes.registry import StepType, get_step_type

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links

# The keys of a JSON step's config that are the engine's, not the step type's.
ENGINE_KEYS = ("timeout", "retry_policy", "catch", "boundary", "for_each")
TIMEOUT_KEY = "timeout"
# A schema keyword of Flowdesk's: the value must be written as is, never by a template.
LITERAL = "x-literal"


class StepTypeKind(ServiceKind):
    """Reads the steps of one step type into service nodes. Not a kind of its own: the
    nodes it makes are the service kind's (`type` "service"), which runs them."""

    def __init__(self, registered: StepType) -> None:
        self.registered = registered
        self.json_type = registered.name

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        from processes.dsl.parts import read_catch

        own = {key: value for key, value in config.data.items() if key not in ENGINE_KEYS}
        for key in own:
            config.templates(key)
        config_check(self.registered, own, config)
        timeout = config.duration(TIMEOUT_KEY)
        if config.has(TIMEOUT_KEY):
            own[TIMEOUT_KEY] = config.data[TIMEOUT_KEY]
        return {
            "service": self.registered.service,
            "input": own,
            "timeout_seconds": _with_margin(timeout, self.registered),
            "retry": json_retry(config) if config.has("retry_policy") else (),
            "catch": read_catch(config, "catch", link),
            "boundary": read_boundary(config, "boundary", link),
            "for_each": read_for_each(config),
            "next": tuple(link(target, path) for target, path in next_names),
        }


def json_step_type_kind(type_name: str) -> StepTypeKind | None:
    """The reader of JSON steps of type `type_name`, when a step type has that name."""
    registered = get_step_type(type_name) if type_name else None
    return StepTypeKind(registered) if registered is not None else None


def read_yaml_step(state: Section, place: YamlPlace, name: str) -> dict[str, Any]:
    """A YAML `task` state whose resource names step type `name`; the fields of its
    service node. An unknown step type is left to the publish check (an unknown service)."""
    from processes.dsl.parts import read_catch

    registered = get_step_type(name)
    config = state.section("config")
    own = {key: value for key, value in config.data.items() if key != TIMEOUT_KEY}
    for key in own:
        config.templates(key)
    if registered is not None:
        config_check(registered, own, config)
    timeout = state.duration(TIMEOUT_KEY)
    if timeout is None and config.has(TIMEOUT_KEY):
        timeout = config.duration(TIMEOUT_KEY)
        own[TIMEOUT_KEY] = config.data[TIMEOUT_KEY]
    elif timeout is not None:
        own[TIMEOUT_KEY] = state.data[TIMEOUT_KEY]
    return {
        "service": state.data["resource"],
        "input": own,
        "timeout_seconds": _with_margin(timeout, registered),
        "retry": yaml_retry(state),
        "catch": read_catch(state, "catch", place.link),
        "boundary": read_boundary(state, "boundary", place.link, in_branch=place.in_branch),
        "next": place.successor(state),
    }


def _with_margin(timeout: float | None, registered: StepType | None) -> float | None:
    if timeout is None or registered is None:
        return timeout
    return timeout + registered.timeout_margin


def config_check(registered: StepType, config: Mapping[str, Any], section: Section) -> None:
    """Add a problem for each way `config` breaks the step type's schema, at its pointer
    under `section` (the step's config)."""
    for pointer, message in config_errors(registered, config, rendered=False):
        section.problems.add(section.path + pointer, message, step=section.step)


def config_errors(
    registered: StepType, config: Mapping[str, Any], *, rendered: bool
) -> list[tuple[str, str]]:
    """(pointer inside the config, message) of each schema error, in document order.

    Before rendering (`rendered` False), an error about a value holding a ``${...}``
    template is left for the run, when its value is known.
    """
    from jsonschema import Draft202012Validator

    own = {key: value for key, value in config.items() if key not in ENGINE_KEYS}
    validator = Draft202012Validator(registered.config_schema)
    found = []
    for error in validator.iter_errors(own):
        if not rendered and _holds_template(error.instance) and not _literal(error.schema):
            continue
        pointer = ""
        for part in error.absolute_path:
            pointer = child(pointer, part)
        if error.validator == "additionalProperties":
            found.extend(
                (
                    child(pointer, key),
                    f"'{key}' is not a config key of step type '{registered.name}'",
                )
                for key in _extra_keys(error)
            )
            continue
        missing = _missing_name(error) if error.validator == "required" else ""
        if missing:
            pointer = child(pointer, missing)
        found.append((pointer, error.message))
    return sorted(found, key=lambda problem: problem[0])


def _holds_template(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _literal(schema: Any) -> bool:
    """The schema says its value must be written as is (`"x-literal": true`): no template
    may give it (a secret's name)."""
    return isinstance(schema, Mapping) and schema.get(LITERAL) is True


def _extra_keys(error: Any) -> list[str]:
    """The properties an `additionalProperties` error is about."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    return [
        str(key)
        for key in instance
        if key not in known and not any(p.search(str(key)) for p in patterns)
    ]


def _missing_name(error: Any) -> str:
    """The property a `required` error is about (jsonschema says it in its message)."""
    for name in error.validator_value:
        if isinstance(error.instance, Mapping) and name not in error.instance:
            if error.message.startswith(repr(name)):
                return name
    return ""
