"""The one guarded HTTP client for everything Flowdesk sends out (webhooks, `http` steps).

    response = outbound_request("POST", "https://api.example.com/orders",
                                headers={"Content-Type": "application/json"},
                                content=b'{"id": 1}', timeout=10)
    response.status, response.headers["content-type"], response.body_bytes, response.truncated

A minimal version of the interface branch `bus13` builds (that one replaces this file): only
`http`/`https`; every address the host resolves to must be public (not loopback, private,
link-local, reserved, multicast or the metadata range) unless
settings.FLOWDESK_ALLOW_PRIVATE_TARGETS; redirects followed by hand, each hop checked; at
most `max_bytes` of the body read; one pooled httpx.Client per process.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254")})


class OutboundError(Exception):
    """The request did not produce a response (connection, TLS, protocol, too many hops)."""


class OutboundRefused(OutboundError):
    """The guard refused the target: scheme, or an address that is not public."""


class OutboundTimeout(OutboundError):
    """The target did not answer within the timeout."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body_bytes: bytes
    truncated: bool
    url: str
    elapsed: float = field(default=0.0, compare=False)

    @property
    def text(self) -> str:
        return self.body_bytes.decode("utf-8", errors="replace")


def private_targets_allowed() -> bool:
    value = getattr(settings, "FLOWDESK_ALLOW_PRIVATE_TARGETS", None)
    if value is None:
        value = os.environ.get("FLOWDESK_ALLOW_PRIVATE_TARGETS", "")
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    ip = ipaddress.ip_address(address)
    if ip in METADATA_ADDRESSES:
        return f"{address} is the cloud metadata address"
    if allow_private:
        return None
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return f"{address} is not a public address"
    return None


def outbound_url_check(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise OutboundRefused(f"only http and https URLs are allowed, not {parts.scheme!r}")
    if not parts.hostname:
        raise OutboundRefused("the URL names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundError(f"cannot resolve {parts.hostname}: {exc.strerror}") from None
    allow = private_targets_allowed()
    for info in infos:
        refusal = address_refusal(info[4][0], allow_private=allow)
        if refusal:
            raise OutboundRefused(f"{parts.hostname}: {refusal}")


_client: httpx.Client | None = None
_client_pid: int | None = None


def _client_for_process() -> httpx.Client:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        _client = httpx.Client(follow_redirects=False, trust_env=False)
        _client_pid = os.getpid()
    return _client


def outbound_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    follow_redirects: bool = True,
) -> OutboundResponse:
    """Send one request through the guard and read at most `max_bytes` of the answer. Any
    status is a response; no answer is OutboundError / OutboundRefused / OutboundTimeout."""
    started = time.monotonic()
    deadline = started + timeout
    method = method.upper()
    for _hop in range(MAX_REDIRECTS + 1):
        outbound_url_check(url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundTimeout(f"no answer from {urlsplit(url).hostname} within {timeout:g}s")
        response = _send_once(method, url, headers or {}, content, remaining, max_bytes)
        location = response.headers.get("location")
        if not (follow_redirects and response.status in REDIRECTS and location):
            return response
        url = urljoin(url, location)
        if response.status == 303:
            method, content = "GET", None
    raise OutboundError(f"more than {MAX_REDIRECTS} redirects")


def _send_once(method, url, headers, content, timeout, max_bytes) -> OutboundResponse:
    started = time.monotonic()
    host = urlsplit(url).hostname
    try:
        with _client_for_process().stream(
            method, url, headers=headers, content=content, timeout=timeout
        ) as response:
            body, truncated = bytearray(), False
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    del body[max_bytes:]
                    truncated = True
                    break
            return OutboundResponse(
                status=response.status_code,
                headers={name.lower(): value for name, value in response.headers.items()},
                body_bytes=bytes(body),
                truncated=truncated,
                url=url,
                elapsed=time.monotonic() - started,
            )
    except httpx.TimeoutException:
        raise OutboundTimeout(f"no answer from {host} within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise OutboundError(f"{host}: {type(exc).__name__}") from None
