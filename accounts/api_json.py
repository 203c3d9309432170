"""The API's JSON bodies: only what PostgreSQL can store comes in, checked by a serializer.

Variables, form values and definitions end up in `jsonb` and `text` columns, which hold
neither NUL characters nor infinite numbers (`1e999` parses to one); deep nesting makes
Python's decoder raise RecursionError. All three answer 400 here instead of 500 later.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request


class StrictJsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply") from None
        problem = storable_problem(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def storable_problem(data: Any) -> str | None:
    """What in `data` PostgreSQL cannot store, or None."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return "text may not contain NUL (\\u0000) characters"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return "numbers must be finite"
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return None


def validated_body(
    *, serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    """The request body, checked by `serializer_class` (400 names the bad fields)."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
