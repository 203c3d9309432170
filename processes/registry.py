"""The service-step registry: the extension point for user code.

    from processes.registry import service

    @service("OrderValidationService.validate")
    def validate(ctx):
        return {"valid": True}

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

_services: dict[str, ServiceFunction] = {}


class ServiceNotFound(LookupError):
    pass


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
    for module in modules:
        importlib.import_module(module)


def _qualname(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"
