"""Errors the services raise for callers to turn into clear 4xx answers.

Each carries a human message; `field_errors` maps a field name to its problems where the
caller sent bad values.
"""

from __future__ import annotations


class FlowdeskError(Exception):
    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotFound(FlowdeskError):
    """The object does not exist (or the caller may not know it does)."""


class InvalidInput(FlowdeskError):
    """The caller sent values the definition or form rejects."""


class NotAllowed(FlowdeskError):
    """The caller may see the object but may not do this to it."""


class Conflict(FlowdeskError):
    """The object is not in a state that allows this (taken, finished, suspended...)."""
