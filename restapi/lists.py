"""List endpoints: their query filters and their pages.

`?page=1&size=10` answers `{"count", "page", "size", "results"}`. Pages count from 1.
`size` above 100 is served as 100 (the answer's `size` says so) rather than refused, so a
client asking for "everything" still gets a sensible page. A page past the last one is an
empty `results` with the true `count`, never an error: a client walks pages until
`results` is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet, Window
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

DEFAULT_SIZE = 10
MAX_SIZE = 100
MAX_PAGE = 1_000_000  # keeps OFFSET within what databases accept


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    size = serializers.IntegerField(min_value=1, default=DEFAULT_SIZE)


class PageSizePagination(BasePagination):
    """Counts in the page query itself (`COUNT(*) OVER ()`): the database sorts every
    matching row to find the page anyway, so the total costs nothing more. Only a page past
    the end, which has no row to carry it, runs a COUNT. The queryset must not be DISTINCT
    (a window counts the rows before DISTINCT removes any)."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None) -> list[Any]:
        query = validated_query(serializer_class=PageQuerySerializer, request=request)
        self.page = query["page"]
        self.size = min(query["size"], MAX_SIZE)
        offset = (self.page - 1) * self.size
        counted = queryset.annotate(total_rows=Window(Count("*")))
        rows = list(counted[offset : offset + self.size])
        self.count = rows[0].total_rows if rows else (queryset.count() if offset else 0)
        return rows

    def get_paginated_response(self, data: Sequence[Any]) -> Response:
        return Response(
            {"count": self.count, "page": self.page, "size": self.size, "results": data}
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "page", "size", "results"],
            "properties": {
                "count": {"type": "integer", "description": "matching objects in all pages"},
                "page": {"type": "integer"},
                "size": {"type": "integer", "description": "the page size served (<= 100)"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the last one has no results.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            },
            {
                "name": "size",
                "in": "query",
                "required": False,
                "description": f"Page size; larger than {MAX_SIZE} is served as {MAX_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_SIZE},
            },
        ]


def validated_query(
    *, serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    """The query string's filters, checked by `serializer_class` (400 names the bad ones)."""
    # A plain dict, not the QueryDict: DRF reads `?state=` in a QueryDict as a form's empty
    # field, i.e. absent; here it is a blank value and refused as the schema says.
    query = serializer_class(data=request.query_params.dict(), context={"request": request})
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def paginated_response(
    *,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
    request: Request,
    view: Any,
    context: dict[str, Any] | None = None,
) -> Response:
    paginator = PageSizePagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    rows = serializer_class(page, many=True, context={"request": request, **(context or {})})
    return paginator.get_paginated_response(rows.data)
