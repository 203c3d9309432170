"""Small definitions for tests, written in the JSON format."""

from __future__ import annotations

import json
from typing import Any

from processes.models import DefinitionVersion
from processes.services import definition_publish


def service_step(step_id: str, service: str, *, next: list[str] | None = None, **config) -> dict:
    name, _, method = service.partition(".")
    config = {"service_name": name, **({"method": method} if method else {}), **config}
    return {"id": step_id, "type": "service_task", "config": config, "next": next or []}


def publish(key: str, steps: list[dict[str, Any]], **extra: Any) -> DefinitionVersion:
    document = {"name": key, "version": "1", "steps": steps, **extra}
    return definition_publish(source=json.dumps(document), format="json")
