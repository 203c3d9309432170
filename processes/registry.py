"""The service-step registry: the extension point for user code.

    from processes.registry import service

    @service("OrderValidationService.validate")
    def validate(ctx):
        return {"valid": True}

Step types are the other extension point: a step type is a service whose steps are
written with a type of their own and a `config` checked against a JSON Schema at publish:

    from processes.registry import step_type

    @step_type("custom_email", config_schema={"type": "object", "required": ["to"], ...})
    def send_email(ctx, config):
        ...  # config: the step's config, its templates rendered
        return {"sent": True}

A definition writes it as JSON ``{"type": "custom_email", "config": {...}}`` or YAML
``type: task`` with ``resource: "flowdesk:step:custom_email"`` and ``config:``; it runs on
a worker as the service ``flowdesk:step:custom_email`` (`processes.nodes.step_types`). The
built-in `http` and `publish` step types are registered the same way
(`processes.builtin_steps`).

A service or step function that raises `StepError("Name.Sub", message)` fails its attempt
with that error name (any other exception: its class name), which retry and catch rules
match (`processes.engine.retries`).

The modules named in the SERVICE_MODULES setting are imported by every process (web,
worker, beat) when Django starts, so publishing can check a service name and a worker can
run it.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

ServiceFunction = Callable[["ServiceContext"], Mapping[str, Any] | None]

StepFunction = Callable[["ServiceContext", dict[str, Any]], Mapping[str, Any] | None]

# The service a step type runs as: STEP_RESOURCE_PREFIX + its name (the YAML `resource`).
STEP_RESOURCE_PREFIX = "flowdesk:step:"
BUILTIN_STEP_MODULE = "processes.builtin_steps"

_services: dict[str, ServiceFunction] = {}
_step_types: dict[str, StepType] = {}


class ServiceNotFound(LookupError):
    pass


class StepError(Exception):
    """Fails a service step's attempt with the error name `error` (dotted names form
    families: a rule naming `HttpError` matches `HttpError.404`)."""

    def __init__(self, error: str, message: str = "") -> None:
        super().__init__(message or error)
        self.error = error
        self.message = message or error


@dataclass(frozen=True)
class ServiceContext:
    """What a service step sees. `variables` is a read-only snapshot of the instance's."""

    input: Mapping[str, Any]
    variables: Mapping[str, Any]
    instance_id: str
    business_key: str
    step_id: str
    job_id: int
    attempt: int

    @classmethod
    def build(cls, *, input: Any, variables: Mapping[str, Any], **ids: Any) -> ServiceContext:
        return cls(
            input=MappingProxyType(copy.deepcopy(input)) if isinstance(input, dict) else input,
            variables=MappingProxyType(copy.deepcopy(dict(variables))),
            **ids,
        )


def error_name(exc: BaseException) -> str:
    """The error name an exception fails a step's attempt with (what rules match)."""
    return exc.error if isinstance(exc, StepError) else type(exc).__name__


def service(name: str) -> Callable[[ServiceFunction], ServiceFunction]:
    """Register `function` as the service `name` (the JSON format's `service_name.method`)."""

    def register(function: ServiceFunction) -> ServiceFunction:
        existing = _services.get(name)
        if existing is not None and _qualname(existing) != _qualname(function):
            raise ValueError(f"service {name!r} is already registered by {_qualname(existing)}")
        _services[name] = function
        return function

    return register


def get_service(name: str) -> ServiceFunction:
    try:
        return _services[name]
    except KeyError:
        raise ServiceNotFound(f"no service is registered as {name!r}") from None


def service_exists(name: str) -> bool:
    return name in _services


def service_names() -> list[str]:
    return sorted(_services)


def load_service_modules(modules: list[str]) -> None:
    importlib.import_module(BUILTIN_STEP_MODULE)
    for module in modules:
        importlib.import_module(module)


@dataclass(frozen=True)
class StepType:
    """A registered step type: `function(ctx, config)` runs as the service `service`.

    `config_schema` (JSON Schema, Draft 2020-12) checks a step's config at publish; the
    step's `timeout`, `retry_policy`, `catch`, `boundary` and `for_each` are the engine's and
    not part of it. `timeout_margin` seconds are added to the step's timeout for the worker's
    deadline, so that a step that bounds its own waits (the `http` step's client) reports
    them first."""

    name: str
    function: StepFunction
    config_schema: Mapping[str, Any]
    timeout_margin: float = 0.0

    @property
    def service(self) -> str:
        return STEP_RESOURCE_PREFIX + self.name


def step_type(
    name: str, *, config_schema: Mapping[str, Any] | None = None, timeout_margin: float = 0.0
) -> Callable[[StepFunction], StepFunction]:
    """Register `function(ctx, config)` as the step type `name`; ValueError when the schema
    is no valid JSON Schema or the name is taken (by a step type or a node kind's)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    schema = dict(config_schema) if config_schema is not None else {"type": "object"}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(
            f"step type {name!r}: its config_schema is invalid: {exc.message}"
        ) from None

    def register(function: StepFunction) -> StepFunction:
        existing = _step_types.get(name)
        if existing is not None and _qualname(existing.function) != _qualname(function):
            raise ValueError(
                f"step type {name!r} is already registered by {_qualname(existing.function)}"
            )
        kind_names = _node_kind_names()
        if name in kind_names:
            raise ValueError(f"step type {name!r} would hide the built-in step type {name!r}")
        registered = StepType(name, function, schema, timeout_margin)
        _step_types[name] = registered
        _services[registered.service] = _step_service(registered)
        return function

    return register


def get_step_type(name: str) -> StepType | None:
    """The step type `name`, or None; the built-in ones are always known."""
    importlib.import_module(BUILTIN_STEP_MODULE)  # imported once; a dict lookup after that
    return _step_types.get(name)


def step_type_of_resource(resource: str) -> str | None:
    """The step type a YAML `resource` names (``flowdesk:step:NAME``), or None."""
    if resource.startswith(STEP_RESOURCE_PREFIX):
        return resource[len(STEP_RESOURCE_PREFIX) :]
    return None


def step_type_names() -> list[str]:
    importlib.import_module(BUILTIN_STEP_MODULE)
    return sorted(_step_types)


def _step_service(registered: StepType) -> ServiceFunction:
    """The service a step type runs as: its config checked once more with the templates
    rendered (a template may give what the schema refuses), then the function."""

    def run(ctx: ServiceContext) -> Mapping[str, Any] | None:
        from processes.nodes.step_types import config_errors

        config = copy.deepcopy(dict(ctx.input))
        errors = config_errors(registered, config, rendered=True)
        if errors:
            pointer, message = errors[0]
            raise StepError("StepConfigInvalid", f"config{pointer}: {message}")
        return registered.function(ctx, config)

    return run


def _node_kind_names() -> set[str]:
    from processes.nodes import JSON_KINDS

    return set(JSON_KINDS)


def _qualname(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"
