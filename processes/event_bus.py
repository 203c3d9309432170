"""Publishing CloudEvents to RabbitMQ (settings.FLOWDESK_EVENT_BUS_URL) with kombu.

One connection per process, made on first use (again after a fork or an error). The topic
exchange (settings.FLOWDESK_EVENT_BUS_EXCHANGE, `flowdesk.events`) is declared durable;
messages are persistent, in CloudEvents' AMQP structured mode (content type
`application/cloudevents+json`, the event as the body). Publisher confirms are on:
`bus_publish_many` sends a group of messages, then waits until RabbitMQ has acked or nacked
every one of them (one round trip per group, not per message), and says which were acked.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

from django.conf import settings
from kombu import Connection, Exchange, Producer

CONTENT_TYPE = "application/cloudevents+json"
CONNECT_TIMEOUT = 2.0
IO_TIMEOUT = 5.0
logger = logging.getLogger(__name__)


class BusUnavailable(Exception):
    """The bus cannot be reached, or dropped the connection: try again later."""


class BusRefused(Exception):
    """RabbitMQ nacked one message (the connection itself is fine)."""


def bus_configured() -> bool:
    return bool(settings.FLOWDESK_EVENT_BUS_URL)


class _Publisher:
    def __init__(self) -> None:
        self.connection = Connection(
            settings.FLOWDESK_EVENT_BUS_URL,
            connect_timeout=CONNECT_TIMEOUT,
            transport_options={"read_timeout": IO_TIMEOUT, "write_timeout": IO_TIMEOUT},
        )
        self.connection.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT)
        channel = self.connection.channel()
        # Confirms by hand: publish a group, then wait for its acks (the transport option
        # `confirm_publish` would wait after each message).
        channel.confirm_select()
        self.published = 0  # delivery tags run 1, 2, ... on the channel
        self.waiting_from = 1
        self.confirmed: dict[int, bool] = {}  # tag -> acked (False: nacked)
        channel.events["basic_ack"].add(lambda tag, multiple: self._confirm(tag, multiple, True))
        channel.events["basic_nack"].add(lambda tag, multiple: self._confirm(tag, multiple, False))
        self.exchange = Exchange(
            settings.FLOWDESK_EVENT_BUS_EXCHANGE, type="topic", durable=True, channel=channel
        )
        self.exchange.declare()
        self.producer = Producer(channel, exchange=self.exchange)
        self.pid = os.getpid()
        self.url = settings.FLOWDESK_EVENT_BUS_URL
        self.exchange_name = settings.FLOWDESK_EVENT_BUS_EXCHANGE

    def _confirm(self, tag: int, multiple: bool, acked: bool) -> None:
        first = self.waiting_from if multiple else tag
        for each in range(first, tag + 1):
            self.confirmed.setdefault(each, acked)

    def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        self.waiting_from = self.published + 1
        self.confirmed = {}
        for routing_key, event in messages:
            self.producer.publish(
                json.dumps(event, separators=(",", ":")).encode(),
                routing_key=routing_key,
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event["id"],
                retry=False,
            )
            self.published += 1
        tags = range(self.waiting_from, self.published + 1)
        while any(tag not in self.confirmed for tag in tags):
            self.connection.drain_events(timeout=IO_TIMEOUT)
        return [self.confirmed[tag] for tag in tags]

    def fits_settings(self) -> bool:
        return (
            self.pid == os.getpid()
            and self.url == settings.FLOWDESK_EVENT_BUS_URL
            and self.exchange_name == settings.FLOWDESK_EVENT_BUS_EXCHANGE
        )

    def close(self) -> None:
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001, S110 - it is being dropped because it broke
            pass


_lock = threading.Lock()
_publisher: _Publisher | None = None


def _current() -> _Publisher:
    global _publisher
    if _publisher is not None and not _publisher.fits_settings():
        if _publisher.pid == os.getpid():
            _publisher.close()
        _publisher = None
    if _publisher is None:
        try:
            _publisher = _Publisher()
        except Exception as exc:  # noqa: BLE001 - any failure to connect means "later"
            raise BusUnavailable(f"{type(exc).__name__}: {exc}") from None
    return _publisher


def bus_drop_connection() -> None:
    global _publisher
    with _lock:
        if _publisher is not None and _publisher.pid == os.getpid():
            _publisher.close()
        _publisher = None


def bus_publish_many(messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Publish (routing key, CloudEvent) pairs, then wait for RabbitMQ's confirms: for each
    message, True when acked, False when nacked. BusUnavailable when the bus cannot be
    reached or failed meanwhile (then any of them may or may not have arrived; the
    connection is dropped and the next call opens a new one)."""
    global _publisher
    if not messages:
        return []
    with _lock:
        publisher = _current()
        try:
            return publisher.publish_many(messages)
        except Exception as exc:  # noqa: BLE001 - a broken connection, in any of its forms
            publisher.close()
            _publisher = None
            raise BusUnavailable(f"{type(exc).__name__}: {exc}") from None


def bus_publish(*, routing_key: str, event: dict[str, Any]) -> None:
    """Publish one CloudEvent and wait for its confirm (BusRefused when nacked)."""
    if not bus_publish_many([(routing_key, event)])[0]:
        raise BusRefused(f"RabbitMQ nacked event {event['id']}")


def bus_check() -> None:
    """Raise BusUnavailable unless the bus accepts a connection now (for /health): a fresh
    connection, so a check never waits behind a publish."""
    try:
        with Connection(settings.FLOWDESK_EVENT_BUS_URL, connect_timeout=CONNECT_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure: the bus is not there
        raise BusUnavailable(f"{type(exc).__name__}: {exc}") from None
