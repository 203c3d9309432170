"""The `publish` step: one message on RabbitMQ (FLOWDESK_EVENT_BUS_URL), with publisher
confirms.

    {"id": "announce", "type": "publish", "config": {
        "exchange": "orders", "routing_key": "order.${status}",
        "message": {"id": "${order_id}", "status": "${status}"}}}

Templates in the routing key and the message are rendered when the step is scheduled. The
exchange is declared (type `exchange_type`, default topic, durable) and the message sent as
persistent JSON with message id ``flowdesk:<instance>:<step>:<job>`` (the same for every
attempt of the step, so a receiver can drop a repeat). The step succeeds only once the broker
confirmed the message; a broker that refuses it (nack, an exchange of another type) or cannot
be reached fails the attempt with `PublishFailed`, which retry and catch rules match.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.conf import settings

from processes.dsl.durations import parse_duration
from processes.registry import ServiceContext, StepError, step_type

DEFAULT_TIMEOUT = 10.0
TIMEOUT_MARGIN = 5.0
EXCHANGE_TYPES = ("topic", "direct", "fanout", "headers")

PUBLISH_SCHEMA = {
    "type": "object",
    "required": ["exchange", "routing_key", "message"],
    "additionalProperties": False,
    "properties": {
        "exchange": {"type": "string", "minLength": 1},
        "exchange_type": {"enum": list(EXCHANGE_TYPES)},
        "routing_key": {"type": "string"},
        "message": {},
    },
}

def _refuse_reserved(name: str) -> None:
    """Flowdesk's own lifecycle exchange and RabbitMQ's `amq.*` ones are not a process's to
    publish on: a definition could forge another process's lifecycle events."""
    from django.conf import settings

    if name == settings.FLOWDESK_EVENT_BUS_EXCHANGE or name.startswith("amq."):
        raise StepError(
            "PublishRefused", f"exchange {name!r} is reserved: publish to an exchange of your own"
        )


_lock = threading.Lock()
_connection: Any = None  # one kombu Connection per process (and bus URL), made on first use
_connection_key: tuple[int, str] | None = None


@step_type("publish", config_schema=PUBLISH_SCHEMA, timeout_margin=TIMEOUT_MARGIN)
def publish_step(ctx: ServiceContext, config: dict[str, Any]) -> None:
    from kombu import Exchange, Producer

    _refuse_reserved(config["exchange"])
    timeout = parse_duration(config["timeout"]) if "timeout" in config else DEFAULT_TIMEOUT
    exchange = Exchange(config["exchange"], type=config.get("exchange_type", "topic"), durable=True)
    with _lock:
        try:
            connection = _connection_for_process(timeout)
            connection.ensure_connection(max_retries=1, timeout=timeout)
            producer = Producer(connection.default_channel, exchange=exchange, auto_declare=True)
            producer.publish(
                config["message"],
                routing_key=config["routing_key"],
                serializer="json",
                delivery_mode=2,
                message_id=f"flowdesk:{ctx.instance_id}:{ctx.step_id}:{ctx.job_id}",
                headers={"flowdesk_instance": ctx.instance_id, "flowdesk_step": ctx.step_id},
                retry=False,
                timeout=timeout,
            )
        except StepError:
            raise
        except Exception as exc:  # noqa: BLE001 - any broker failure fails the attempt
            _connection_drop()
            raise StepError(
                "PublishFailed",
                f"publishing to exchange {config['exchange']!r}: {type(exc).__name__}: {exc}",
            ) from None


def bus_url() -> str:
    url = getattr(settings, "FLOWDESK_EVENT_BUS_URL", None)
    if url is None:
        url = os.environ.get("FLOWDESK_EVENT_BUS_URL", "")
    return url or ""


def _connection_for_process(timeout: float) -> Any:
    global _connection, _connection_key
    from kombu import Connection

    url = bus_url()
    if not url:
        raise StepError("PublishFailed", "the server sets no FLOWDESK_EVENT_BUS_URL")
    if _connection is None or _connection_key != (os.getpid(), url):
        _connection_drop()
        _connection = Connection(
            url, connect_timeout=timeout, transport_options={"confirm_publish": True}
        )
        _connection_key = (os.getpid(), url)
    return _connection


def _connection_drop() -> None:
    global _connection
    if _connection is not None:
        try:
            _connection.release()
        except Exception:  # noqa: BLE001, S110 - a broken connection is dropped either way
            pass
    _connection = None
