"""The API's JSON bodies: only what PostgreSQL can store comes in, checked by a serializer.

Variables, form values and definitions end up in `jsonb` and `text` columns, which hold
neither NUL characters, lone surrogates (`"\\ud800"`) nor infinite numbers (`1e999` parses
to one); deep nesting makes Python's decoder raise RecursionError. All answer 400 here,
naming the field, instead of 500 later.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request

from processes.storable import unstorable


class StrictJsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply") from None
        problem = unstorable(data)
        if problem:
            where, why = problem
            raise ParseError(f"JSON parse error - {where}: {why}")
        return data


def validated_body(
    *, serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    """The request body, checked by `serializer_class` (400 names the bad fields)."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
