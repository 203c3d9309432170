"""The `http` step: one request through the guarded client (`processes.outbound`).

    {"id": "create_order", "type": "http", "config": {
        "url": "https://api.example.com/orders/${order_id}", "method": "POST",
        "headers": {"Authorization": {"secret": "ORDERS_TOKEN"}, "X-Case": "${case}"},
        "body": {"id": "${order_id}"}, "timeout": "10s", "expect_status": [200, 201],
        "result": "order_api"}}

Templates in url, headers and body are rendered when the step is scheduled; a header value
``{"secret": "NAME"}`` stays a marker until the worker sends the request
(`processes.builtin_steps.secrets`). The answer lands in the variable `result` as
``{status, headers, body}`` (body: parsed JSON when the response says JSON, else text; at
most 64 KB are read). A status outside `expect_status` (default: any 2xx) fails the attempt
with `HttpError.<status>`; no answer within `timeout` (default 10 s) with `States.Timeout`,
as a service step's timeout; a refused target (the SSRF guard) with `HttpRefused`; any other
network failure with `HttpConnectionError`. Retry and catch rules match them; `HttpError`
matches every `HttpError.<status>`.
"""

from __future__ import annotations

import json
from typing import Any

from processes.builtin_steps.secrets import SECRET_SCHEMA, is_secret, secret_scrubbed, secret_value
from processes.dsl.durations import parse_duration
from processes.dsl.graph import TIMEOUT_ERROR
from processes.registry import ServiceContext, StepError, step_type

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_TIMEOUT = 10.0
# The worker's deadline for the step is its timeout plus this: the client's own timeout,
# which leaves the pooled connection clean, answers first.
TIMEOUT_MARGIN = 5.0
EXCERPT = 200

HTTP_SCHEMA = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "minLength": 1},
        "method": {"enum": [*METHODS, *(method.lower() for method in METHODS)]},
        "headers": {
            "type": "object",
            "additionalProperties": {"anyOf": [{"type": "string"}, SECRET_SCHEMA]},
        },
        "body": {},
        "expect_status": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "integer", "minimum": 100, "maximum": 599},
        },
        "result": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
    },
}


@step_type("http", config_schema=HTTP_SCHEMA, timeout_margin=TIMEOUT_MARGIN)
def http_step(ctx: ServiceContext, config: dict[str, Any]) -> dict[str, Any]:
    """One request; what it gives back, and every error it fails with, hold no secret it
    sent (a target may echo a header back)."""
    secrets: list[str] = []
    try:
        return secret_scrubbed(_call(ctx, config, secrets), secrets)
    except StepError as exc:
        raise StepError(exc.error, secret_scrubbed(str(exc), secrets)) from None


def _call(ctx: ServiceContext, config: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    from processes.outbound import (
        OutboundError,
        OutboundRefused,
        OutboundTimeout,
        outbound_request,
    )

    method = str(config.get("method", "GET")).upper()
    url = str(config["url"])
    headers, content = _request_parts(ctx, config, secrets)
    timeout = parse_duration(config["timeout"]) if "timeout" in config else DEFAULT_TIMEOUT
    try:
        response = outbound_request(method, url, headers=headers, content=content, timeout=timeout)
    except OutboundTimeout as exc:
        raise StepError(TIMEOUT_ERROR, f"{method} {url}: {exc}") from None
    except OutboundRefused as exc:
        raise StepError("HttpRefused", f"{method} {url}: {exc}") from None
    except OutboundError as exc:
        raise StepError("HttpConnectionError", f"{method} {url}: {exc}") from None
    expected = config.get("expect_status")
    if not (response.status in expected if expected else 200 <= response.status < 300):
        excerpt = response.body_bytes[:EXCERPT].decode("utf-8", errors="replace")
        raise StepError(
            f"HttpError.{response.status}", f"{method} {url} answered {response.status}: {excerpt}"
        )
    result_name = config.get("result")
    if not result_name:
        return {}
    return {
        result_name: {
            "status": response.status,
            "headers": response.headers,
            "body": _body(response.headers, response.body_bytes, response.truncated),
        }
    }


def _request_parts(
    ctx: ServiceContext, config: dict[str, Any], secrets: list[str]
) -> tuple[dict[str, str], bytes | None]:
    """The headers (secrets read now, each noted in `secrets`) and the body: JSON unless it
    is text. A secret is sent only where the published definition names it as written: a
    marker a template produced (from variables) is refused."""
    written = _published_headers(ctx)
    headers = {}
    for name, value in (config.get("headers") or {}).items():
        if is_secret(value):
            if written.get(name) != value:
                raise StepError(
                    "StepConfigInvalid",
                    f"header {name!r}: a secret is sent only where the definition names it"
                    " as written, not where a variable gives it",
                )
            value = secret_value(value["secret"])
            secrets.append(value)
        headers[str(name)] = str(value)
    names = {name.lower() for name in headers}
    body = config.get("body")
    if body is None:
        return headers, None
    if isinstance(body, str):
        if "content-type" not in names:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return headers, body.encode()
    if "content-type" not in names:
        headers["Content-Type"] = "application/json"
    return headers, json.dumps(body, separators=(",", ":")).encode()


def _published_headers(ctx: ServiceContext) -> dict[str, Any]:
    """The step's headers as its published definition writes them (templates unrendered)."""
    from processes.models import ProcessInstance, graph_of_version

    version_id, scope = (
        ProcessInstance.objects.filter(pk=ctx.instance_id)
        .values_list("definition_version_id", "scope")
        .get()
    )
    node = graph_of_version(version_id, scope).node(ctx.step_id)
    return dict((node.input or {}).get("headers") or {})


def _body(headers: dict[str, str], body: bytes, truncated: bool) -> Any:
    """Parsed JSON when the response says it is JSON (and came whole), else the text."""
    text = body.decode("utf-8", errors="replace")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if not truncated and (content_type == "application/json" or content_type.endswith("+json")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
