"""The guarded outbound HTTP client (processes/outbound.py): who it refuses, where it really
connects, and what it reads."""

from __future__ import annotations

import socket

import pytest

from processes import outbound
from processes.outbound import (
    MAX_BYTES,
    OutboundError,
    OutboundRefused,
    OutboundTimeout,
    outbound_request,
    outbound_url_check,
)
from tests.support.receiver import Receiver, Reply


@pytest.fixture
def allow_private(settings):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def deny_private(settings):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/hook",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",  # shared address space (carrier NAT)
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_private_loopback_link_local_and_metadata_targets_are_refused(deny_private, url):
    with pytest.raises(OutboundRefused):
        outbound_url_check(url)
    with pytest.raises(OutboundRefused):
        outbound_request("GET", url, timeout=2)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http:///nohost"]
)
def test_only_http_and_https_urls_are_sent(allow_private, url):
    with pytest.raises(OutboundRefused):
        outbound_url_check(url)
    with pytest.raises(OutboundRefused):
        outbound_request("GET", url, timeout=2)


def test_the_metadata_address_stays_refused_when_private_targets_are_allowed(allow_private):
    with pytest.raises(OutboundRefused, match="metadata"):
        outbound_request("GET", "http://169.254.169.254/latest/meta-data/", timeout=2)


def test_a_public_address_passes_the_check(deny_private, monkeypatch):
    monkeypatch.setattr(outbound, "host_addresses", lambda host, port: ["93.184.215.14"])
    outbound_url_check("https://api.example.com/orders")


def test_a_host_with_any_private_address_among_its_answers_is_refused(deny_private, monkeypatch):
    answers = ["93.184.215.14", "10.0.0.7"]
    monkeypatch.setattr(outbound, "host_addresses", lambda host, port: answers)
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.7"):
        outbound_url_check("https://api.example.com/orders")


def test_with_private_targets_allowed_a_local_receiver_gets_the_request(allow_private):
    with Receiver([Reply(201, b'{"ok": true}', {"Content-Type": "application/json"})]) as rcv:
        response = outbound_request(
            "POST",
            rcv.url("/orders?x=1"),
            headers={"Content-Type": "application/json", "X-Trace": "abc"},
            content=b'{"id": 7}',
            timeout=5,
        )
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert response.body_bytes == b'{"ok": true}'
    assert response.truncated is False
    [request] = rcv.requests
    assert (request.method, request.path, request.body) == ("POST", "/orders?x=1", b'{"id": 7}')
    assert request.headers["x-trace"] == "abc"
    assert request.headers["user-agent"] == "Flowdesk"


def test_it_connects_to_the_address_it_checked_and_sends_the_host_name(allow_private, monkeypatch):
    """The host is resolved once, by the guard, for the connection (no second lookup that a
    rebinding DNS server could answer differently), and the Host header keeps the name."""
    lookups = []
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        lookups.append(host)
        if host == "orders.example.test":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with Receiver() as rcv:
        response = outbound_request("GET", rcv.url("/", host="orders.example.test"), timeout=5)
    assert response.status == 200
    assert rcv.requests[0].headers["host"] == f"orders.example.test:{rcv.port}"
    names = [host for host in lookups if not _is_ip(host)]
    assert names == ["orders.example.test"]


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def test_a_redirect_to_a_private_address_is_refused(deny_private, monkeypatch):
    """The first hop is to an address the guard takes as public (127.0.0.1 here, by a
    stand-in rule); its redirect to another loopback address is checked and refused."""
    real_refusal = outbound.address_refusal

    def refusal(address, *, allow_private):
        return None if address == "127.0.0.1" else real_refusal(address, allow_private=False)

    monkeypatch.setattr(outbound, "address_refusal", refusal)
    with Receiver([Reply(302, headers={"Location": "http://127.0.0.2:9/admin"})]) as rcv:
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2"):
            outbound_request("GET", rcv.url("/start"), timeout=5)
    assert [r.path for r in rcv.requests] == ["/start"]


def test_redirects_are_followed_hop_by_hop(allow_private):
    with Receiver(
        [
            Reply(307, headers={"Location": "/second"}),
            Reply(302, headers={"Location": "/third"}),
            Reply(200, b"done"),
        ]
    ) as rcv:
        response = outbound_request("POST", rcv.url("/first"), content=b"payload", timeout=5)
    assert response.body_bytes == b"done"
    assert response.url.endswith("/third")
    # 307 keeps the method and the body; 302 after a POST turns into a GET without one.
    assert [(r.method, r.path, r.body) for r in rcv.requests] == [
        ("POST", "/first", b"payload"),
        ("POST", "/second", b"payload"),
        ("GET", "/third", b""),
    ]


def test_endless_redirects_end_in_an_error(allow_private):
    with Receiver(default=Reply(302, headers={"Location": "/again"})) as rcv:
        with pytest.raises(OutboundError, match="redirects"):
            outbound_request("GET", rcv.url("/"), timeout=5)
    assert len(rcv.requests) == outbound.MAX_REDIRECTS + 1


def test_a_redirect_is_returned_as_is_when_not_followed(allow_private):
    with Receiver([Reply(301, headers={"Location": "/elsewhere"})]) as rcv:
        response = outbound_request("GET", rcv.url("/"), timeout=5, follow_redirects=False)
    assert response.status == 301
    assert response.headers["location"] == "/elsewhere"


def test_at_most_64_kb_of_a_body_are_read(allow_private):
    with Receiver([Reply(200, b"x" * (MAX_BYTES * 3))]) as rcv:
        response = outbound_request("GET", rcv.url("/big"), timeout=5)
    assert len(response.body_bytes) == MAX_BYTES
    assert response.truncated is True


def test_a_target_that_does_not_answer_times_out(allow_private):
    with Receiver([Reply(hang=True)]) as rcv:
        with pytest.raises(OutboundTimeout):
            outbound_request("GET", rcv.url("/slow"), timeout=0.5)


def test_a_closed_port_is_an_outbound_error(allow_private):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OutboundError) as caught:
        outbound_request("GET", f"http://127.0.0.1:{port}/", timeout=2)
    assert not isinstance(caught.value, OutboundRefused)


def test_proxies_from_the_environment_are_not_used(allow_private, monkeypatch):
    """A proxy would connect to the target where the guard cannot check it."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setattr(outbound, "_client", None)
    with Receiver() as rcv:
        assert outbound_request("GET", rcv.url("/"), timeout=5).status == 200
    assert len(rcv.requests) == 1
