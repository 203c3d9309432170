"""The machine's RabbitMQ (127.0.0.1:5672, guest/guest) for the event bus tests.

Each test session publishes into a virtual host of its own (made with rabbitmqctl, deleted
at the end), so parallel runs on one RabbitMQ never see each other's events; the exchange
keeps its real name, `flowdesk.events`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from kombu import Connection, Exchange, Queue

from tests.support.workers import wait_for

HOST = "127.0.0.1:5672"
EXCHANGE = "flowdesk.events"


def _ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("rabbitmqctl") or "rabbitmqctl", "-q", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def vhost_create() -> str:
    name = f"flowdesk_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _ctl("add_vhost", name)
    _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return name


def vhost_delete(name: str) -> None:
    _ctl("delete_vhost", name, check=False)


def bus_url(vhost: str) -> str:
    return f"amqp://guest:guest@{HOST}/{vhost}"


def accepts_connections(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=1)
            conn.default_channel  # noqa: B018 - opening a channel proves the vhost serves
        return True
    except Exception:
        return False


def rabbitmq_stop() -> None:
    """Stop the RabbitMQ application (the node stays up to be started again)."""
    _ctl("stop_app")


def rabbitmq_start(url: str) -> None:
    """Start it again and wait until it accepts connections on `url`."""
    _ctl("start_app")
    _ctl("await_startup", check=False)
    wait_for(lambda: accepts_connections(url), timeout=120, what="RabbitMQ to accept connections")


class BusListener:
    """A durable queue bound to `flowdesk.events` with `#` (every routing key): it keeps
    what is published while nobody reads, and through a RabbitMQ restart."""

    def __init__(self, url: str, *, binding: str = "#") -> None:
        self.url = url
        self.queue = Queue(
            f"test-listener-{uuid.uuid4().hex[:8]}",
            exchange=Exchange(EXCHANGE, type="topic", durable=True),
            routing_key=binding,
            durable=True,
            auto_delete=False,
        )
        self.received: list[dict] = []  # {"routing_key", "content_type", "body"}
        with Connection(self.url) as conn:
            self.queue(conn.default_channel).declare()

    def drain(self) -> list[dict]:
        """Take every message waiting in the queue (none when RabbitMQ is not there)."""
        import json

        try:
            with Connection(self.url, connect_timeout=2) as conn:
                bound = self.queue(conn.default_channel)
                while (message := bound.get(no_ack=True)) is not None:
                    self.received.append(
                        {
                            "routing_key": message.delivery_info["routing_key"],
                            "content_type": message.content_type,
                            "body": json.loads(message.body),
                        }
                    )
        except Exception:  # noqa: S110 - RabbitMQ is down: nothing to take now
            pass
        return self.received

    def delete(self) -> None:
        try:
            with Connection(self.url, connect_timeout=2) as conn:
                self.queue(conn.default_channel).delete()
        except Exception:  # noqa: S110 - the vhost goes with the session anyway
            pass


# --- Fixtures (import them into a test module) ---------------------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def bus_vhost():
    name = vhost_create()
    yield name
    vhost_delete(name)


@pytest.fixture
def event_bus(bus_vhost, settings, monkeypatch):
    """The bus on in this process and in the workers started after it: its URL."""
    from processes.event_bus import bus_drop_connection

    url = bus_url(bus_vhost)
    settings.FLOWDESK_EVENT_BUS_URL = url
    monkeypatch.setenv("FLOWDESK_EVENT_BUS_URL", url)
    bus_drop_connection()
    yield url
    bus_drop_connection()


@pytest.fixture
def listener(event_bus):
    bus = BusListener(event_bus)
    yield bus
    bus.delete()
