"""The engine's tunables (settings.FLOWDESK_ENGINE), read at call time so tests can override."""

from typing import Any

from django.conf import settings


def engine_setting(name: str) -> Any:
    return settings.FLOWDESK_ENGINE[name]
