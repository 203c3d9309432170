"""Secrets a step's config names as ``{"secret": "NAME"}``: the server's
FLOWDESK_SECRET_NAME (a setting, else the environment), read on the worker right before it
is used. The marker, never the value, is what the definition, the job's input and the
history hold; no message or log line carries the value."""

from __future__ import annotations

import os
import re
from typing import Any

from django.conf import settings

from processes.registry import StepError

SECRET_PREFIX = "FLOWDESK_SECRET_"  # noqa: S105 - a setting name's prefix, no secret
SECRET_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"  # noqa: S105 - the pattern of a name
SECRET_SCHEMA = {
    "type": "object",
    "required": ["secret"],
    "additionalProperties": False,
    # The name is written as is: a template would let variables choose which secret is sent.
    "properties": {"secret": {"type": "string", "pattern": SECRET_NAME, "x-literal": True}},
}
_NAME = re.compile(SECRET_NAME)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secret"}


def secret_value(name: str) -> str:
    """FLOWDESK_SECRET_<NAME>; StepError SecretMissing (naming only the setting) without it."""
    key = SECRET_PREFIX + str(name).upper()
    if not _NAME.match(str(name)):
        raise StepError("SecretMissing", f"{name!r} is not a secret name")
    value = getattr(settings, key, None)
    if value is None:
        value = os.environ.get(key)
    if not value:
        raise StepError("SecretMissing", f"the server sets no {key}")
    value = str(value)
    if value != value.strip() or any(c in value for c in "\r\n\0"):
        # A header cannot carry it, and the HTTP library's refusal would quote it.
        raise StepError(
            "SecretInvalid", f"{key} has a line break, a NUL or spaces around it: remove them"
        )
    return value


def secret_scrubbed(value: Any, secrets: list[str]) -> Any:
    """`value` (text, or lists and objects of it) with every secret in `secrets` replaced
    by ***: what a target echoes back must not carry them into the variables or history."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: secret_scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [secret_scrubbed(v, secrets) for v in value]
    return value
