"""The one guarded HTTP client for everything Flowdesk sends out (webhooks, `http` steps).

    from processes.outbound import outbound_request, OutboundRefused, OutboundError

    response = outbound_request("POST", "https://api.example.com/orders",
                                headers={"Content-Type": "application/json"},
                                content=b'{"id": 1}', timeout=10)
    response.status, response.headers["content-type"], response.body_bytes, response.truncated

What it guards, on every request and every redirect hop:

* only `http` and `https` URLs;
* the host is resolved here and EVERY address it resolves to must be public: loopback,
  private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses are
  refused (`OutboundRefused`) unless settings.FLOWDESK_ALLOW_PRIVATE_TARGETS is on. The
  cloud metadata addresses (169.254.169.254, fd00:ec2::254) are refused even then: no
  webhook or step has business there;
* the connection goes to the address that was checked (the check happens inside the
  connection pool's connect, so a DNS answer that changes between a check and the connect,
  "DNS rebinding", cannot slip a private address through), while the URL keeps its host
  name: the Host header, TLS SNI and certificate check are the host's, as usual;
* redirects (301, 302, 303, 307, 308) are followed by hand, at most MAX_REDIRECTS, each hop
  checked like the first; a cross-origin hop drops Authorization and Cookie;
* at most `max_bytes` (64 KB by default) of the response body are read: the rest is left
  unread and `truncated` says so; the whole exchange is bounded by `timeout` seconds;
* no proxies from the environment (a proxy would connect where this module cannot check).

One pooled httpx.Client per process (made lazily, again after a fork). Errors: every
failure is an `OutboundError` (its message is safe to record: no headers, no body sent);
`OutboundRefused` for the guard, `OutboundTimeout` when time ran out.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "Flowdesk"
SCHEMES = ("http", "https")
# Cloud metadata and credential endpoints (AWS/GCP/Azure, AWS IPv6, ECS tasks, Alibaba):
# refused even where private targets are allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052/8215).
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Caller headers kept on a redirect to another origin: none of the caller's own; only ours.
CROSS_ORIGIN_HEADERS = frozenset({"user-agent", "accept", "content-type"})
REDIRECTS = (301, 302, 303, 307, 308)


class OutboundError(Exception):
    """The request did not produce a response (connection, TLS, protocol, too many hops)."""


class OutboundRefused(OutboundError):
    """The guard refused the target: scheme, or an address that is not public."""


class OutboundTimeout(OutboundError):
    """The target did not answer (connect, send, read) within the timeout."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    # Lower-case names; a header sent several times is joined with ", ".
    headers: dict[str, str]
    body_bytes: bytes
    # True when the body was longer than max_bytes and only max_bytes were read.
    truncated: bool
    # The URL that answered (after redirects).
    url: str
    elapsed: float = field(default=0.0, compare=False)

    @property
    def text(self) -> str:
        return self.body_bytes.decode("utf-8", errors="replace")


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "FLOWDESK_ALLOW_PRIVATE_TARGETS", False))


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo), judged as
    itself: 64:ff9b::a00:1 reaches 10.0.0.1 on a DNS64 network."""
    if ip.version == 4:
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in network for network in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    return ip


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why `address` (an IP literal) may not be a target, or None when it may."""
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if allow_private or (ip.is_global and not ip.is_multicast):
        return None
    kind = next(
        (
            name
            for name in ("loopback", "private", "link_local", "multicast", "reserved")
            if getattr(ip, f"is_{name}")
        ),
        "not public",
    )
    return f"{ip} is {kind.replace('_', '-')}" if kind != "not public" else f"{ip} is not public"


def host_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def host_checked(host: str, port: int) -> list[str]:
    """`host`'s addresses, each one allowed; OutboundRefused naming the first that is not."""
    allow = private_targets_allowed()
    addresses = host_addresses(host, port)
    for address in addresses:
        problem = address_refusal(address, allow_private=allow)
        if problem:
            raise OutboundRefused(f"{host} resolves to {problem}")
    return addresses


def outbound_url_check(url: str) -> None:
    """Refuse (OutboundRefused) a URL the client would refuse to send to, now: its scheme,
    its host and every address the host resolves to. For checking a target when it is
    configured (a webhook subscription); the client checks again on every request."""
    parts = _url_parts(url)
    host_checked(parts.hostname, parts.port)


@dataclass(frozen=True)
class _Parts:
    scheme: str
    hostname: str
    port: int


def _url_parts(url: str) -> _Parts:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused("only http and https URLs may be called")
    if not parts.hostname:
        raise OutboundRefused("the URL has no host")
    return _Parts(scheme, parts.hostname, port or (443 if scheme == "https" else 80))


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves and checks the host when the pool opens a connection, then connects to the
    checked address (the pool keeps the host name for Host, SNI and the certificate)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = host_checked(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # noqa: S101 - host_checked returns at least one address
        raise last


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False, retries=0)
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )


_client_lock = threading.Lock()
_client: tuple[int, httpx.Client] | None = None


def _client_for_process() -> httpx.Client:
    """The process's pooled client; a forked child (a prefork worker) makes its own."""
    global _client
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            client = httpx.Client(
                transport=_GuardedTransport(),
                trust_env=False,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            )
            _client = (os.getpid(), client)
        return _client[1]


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
    """Send one request through the guard (module docstring) and read at most `max_bytes`
    of the answer. Any status is a response (the caller decides what 404 means); no answer
    is OutboundError / OutboundRefused / OutboundTimeout."""
    started = time.monotonic()
    deadline = started + timeout
    method = method.upper()
    headers = dict(headers or {})
    body = content.encode() if isinstance(content, str) else content
    for _hop in range(MAX_REDIRECTS + 1):
        parts = _url_parts(url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundTimeout(f"no answer from {parts.hostname} within {timeout:g}s")
        response = _send_once(method, url, headers, body, remaining, max_bytes, deadline)
        location = response.headers.get("location")
        if not (follow_redirects and response.status in REDIRECTS and location):
            return _with_elapsed(response, time.monotonic() - started)
        next_url = str(httpx.URL(url).join(location))
        if _origin(next_url) != _origin(url):
            # Another origin gets none of the caller's credentials, whatever their name (an
            # API key header, a signature).
            headers = {k: v for k, v in headers.items() if k.lower() in CROSS_ORIGIN_HEADERS}
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            headers = {
                k: v
                for k, v in headers.items()
                if k.lower() not in ("content-type", "content-length")
            }
        url = next_url
    raise OutboundError(f"more than {MAX_REDIRECTS} redirects")


def _origin(url: str) -> tuple[str, str, int]:
    parts = _url_parts(url)
    return parts.scheme, parts.hostname, parts.port


def _with_elapsed(response: OutboundResponse, elapsed: float) -> OutboundResponse:
    return OutboundResponse(
        status=response.status,
        headers=response.headers,
        body_bytes=response.body_bytes,
        truncated=response.truncated,
        url=response.url,
        elapsed=elapsed,
    )


def _send_once(method, url, headers, body, timeout, max_bytes, deadline) -> OutboundResponse:
    client = _client_for_process()
    try:
        with client.stream(method, url, headers=headers, content=body, timeout=timeout) as resp:
            chunks, size, truncated = [], 0, False
            for chunk in resp.iter_bytes():
                if time.monotonic() > deadline:
                    raise OutboundTimeout(f"the answer from {resp.url.host} took too long")
                if size + len(chunk) > max_bytes:
                    chunks.append(chunk[: max_bytes - size])
                    truncated = True
                    break
                chunks.append(chunk)
                size += len(chunk)
            return OutboundResponse(
                status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body_bytes=b"".join(chunks),
                truncated=truncated,
                url=str(resp.url),
            )
    except OutboundError:
        raise
    except httpx.TimeoutException as exc:
        raise OutboundTimeout(f"{type(exc).__name__}: {exc or 'timed out'}") from None
    except (httpx.LocalProtocolError, httpcore.LocalProtocolError):
        # Its text quotes the offending header value, which may be a secret.
        raise OutboundError(
            "the request could not be sent: a header holds an invalid value"
        ) from None
    except httpx.HTTPError as exc:
        raise OutboundError(f"{type(exc).__name__}: {exc}") from None
