"""Every error the API answers, in one shape: `{"detail": "...", "errors": ...}`.

`errors` is present on 400 only: a mapping field -> messages for bad input, or the list of
a definition's problems (`path`, `message`, `step`, `line`). The services' errors map to
statuses here and nowhere else: NotFound 404 (also what an object the caller may not see
answers), InvalidInput 400, NotAllowed 403, Conflict 409.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler

from processes.dsl import DefinitionError
from processes.errors import Conflict, FlowdeskError, InvalidInput, NotAllowed, NotFound

STATUS_OF_ERROR = {
    NotFound: status.HTTP_404_NOT_FOUND,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotAllowed: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DefinitionError):
        problems = [
            {"path": p.path, "message": p.message, "step": p.step, "line": p.line}
            for p in exc.problems
        ]
        return Response({"detail": str(exc), "errors": problems}, status=400)
    if isinstance(exc, FlowdeskError):
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        return Response(body, status=STATUS_OF_ERROR[type(exc)])
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"the request body is larger than the {limit:,} bytes accepted"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django answers 500 and logs it
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": f"invalid input: {', '.join(errors)}", "errors": errors}
    else:
        # simplejwt adds `code` and `messages`; every other error is just its detail.
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"detail": str(detail)}
    return response


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
def api_route_not_found(request, *args, **kwargs) -> Response:
    """Unknown /api/v1/ paths answer in JSON like the rest of the API, not Django's HTML."""
    raise exceptions.NotFound(f"no API route {request.path}")


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "JSON pointer into the definition"},
        "message": {"type": "string"},
        "step": {"type": "string", "nullable": True},
        "line": {"type": "integer", "nullable": True},
    },
    "required": ["path", "message", "step", "line"],
}


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "description": "field -> its problems",
                "additionalProperties": {},
            },
            {
                "type": "array",
                "description": "every problem of a definition",
                "items": PROBLEM_SCHEMA,
            },
        ]
    }
)
class ErrorsField(serializers.JSONField):
    pass


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ErrorsField(required=False)


ERROR_MEANINGS = {
    400: "Invalid input: `errors` says what is wrong, field by field or problem by problem.",
    401: "No valid credentials: log in at /api/v1/auth/login and send the Bearer token.",
    403: "The object is visible but you may not do this; `detail` says why.",
    404: "No such object, or one you may not see.",
    409: "The object's state does not allow this (already claimed, finished, suspended...).",
    413: "The request body is larger than the server accepts.",
    429: (
        "Too many failed logins for this account (or from this address): the login is "
        "locked, even with the right password; retry after `Retry-After` seconds."
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The schema of the error answers of an operation: `codes` and 401, which all may give."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[code])
        for code in sorted({401, *codes})
    }
