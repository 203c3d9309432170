"""Body fields that take JSON as it is written: DRF's CharField turns a number into text,
which the schema (a string) does not allow."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_text": "must be a text, not {kind}"}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text", kind=type(data).__name__)
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 200}, {"type": "integer"}]})
class KeyField(serializers.Field):
    """A correlation key: a text, or a whole number (matched as its decimal text)."""

    default_error_messages = {"invalid": "must be a text or a whole number"}

    def to_internal_value(self, data: Any) -> str | int:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value
