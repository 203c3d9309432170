"""The event bus: what the outbox costs a service step, and how fast the relay empties it
into RabbitMQ. Prints figures; asserts nothing but that every event was published.

    .venv/bin/python bench/event_bus.py [--instances 150] [--events 5000]

1. The step path (start -> 3 no-op service steps -> end, `job_run` in this process, as a
   worker runs it), with the bus off and then on (FLOWDESK_EVENT_BUS_URL set): SQL
   statements per step and time per step, and the difference per step. The relay does not
   run meanwhile: the "on" figure is the cost of writing the outbox in the step's own
   transaction.
2. The relay: the outbox rows written in 1., plus `--events` more of the same shape, relayed
   by `outbox_relay` (batches of FLOWDESK_OUTBOX_BATCH, publisher confirms, persistent
   messages into a durable queue bound to the exchange): events/s from the outbox to
   RabbitMQ.

It uses its own database (flowdesk_bench_bus, recreated; BENCH_DATABASE names another),
Redis database 11 (BENCH_REDIS_DB), RabbitMQ at BENCH_BUS_URL (default the machine's,
amqp://guest:guest@127.0.0.1:5672//) with an exchange and a queue of its own (deleted at
the end), so a listener on `flowdesk.events` sees nothing of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import machine_baseline, recreate_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench_bus")
BUS_URL = os.environ.get("BENCH_BUS_URL", "amqp://guest:guest@127.0.0.1:5672//")
EXCHANGE = "flowdesk.bench.events"
QUEUE = "flowdesk.bench.sink"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '11')}",
        "SERVICE_MODULES": "processes.demo_services,bench.services",
        "FLOWDESK_EVENT_BUS_EXCHANGE": EXCHANGE,
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("FLOWDESK_EVENT_BUS_URL", None)


def publish_definition() -> None:
    from processes.services import definition_publish

    steps = [
        {
            "id": f"s{i}",
            "type": "service_task",
            "config": {"service_name": "bench.noop"},
            "next": [f"s{i + 1}"] if i < 3 else ["end"],
        }
        for i in (1, 2, 3)
    ]
    three = {"name": "bench-three-steps", "steps": [*steps, {"id": "end", "type": "end"}]}
    definition_publish(source=json.dumps(three), format="json")


def step_path(samples: int) -> tuple[float, float]:
    """SQL statements and milliseconds per step over `samples` instances' steps."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes.models import Job
    from processes.services import instance_start, job_run

    for _ in range(samples):
        instance_start(definition_key="bench-three-steps")
    done_before = Job.objects.filter(status="succeeded").count()
    statements = 0
    seconds = 0.0
    while ids := list(Job.objects.filter(status="scheduled").values_list("id", flat=True)):
        for job_id in ids:
            connection.queries_log.clear()  # a full log would miscount (it keeps 9000)
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                job_run(job_id=job_id)  # and the steps after it (FLOWDESK_CHAIN_STEPS)
                seconds += time.perf_counter() - began
            statements += len(captured)
    steps = Job.objects.filter(status="succeeded").count() - done_before
    return statements / steps, seconds / steps * 1000


def seed_outbox(count: int) -> None:
    """`count` outbox rows shaped like a step's events, in one INSERT per 1000."""
    from django.db.models import Max

    from processes.models import OutboxEvent

    first = (OutboxEvent.objects.aggregate(m=Max("id"))["m"] or 0) + 10_000_000
    template = OutboxEvent.objects.order_by("id").first().cloudevent
    rows = []
    for n in range(count):
        event = {**template, "id": str(first + n), "subject": f"seeded-{n % 500}"}
        rows.append(
            OutboxEvent(
                id=first + n,
                instance_id=f"seeded-{n % 500}",
                routing_key="bench-three-steps.task_completed",
                cloudevent=event,
            )
        )
    OutboxEvent.objects.bulk_create(rows, batch_size=1000)


def bus_sink(action: str) -> None:
    """Declare (or delete) the bench's exchange and a durable queue bound to it."""
    from kombu import Connection, Exchange, Queue

    with Connection(BUS_URL, connect_timeout=5) as conn:
        queue = Queue(
            QUEUE,
            exchange=Exchange(EXCHANGE, type="topic", durable=True),
            routing_key="#",
            durable=True,
        )(conn.default_channel)
        if action == "declare":
            queue.declare()
        else:
            queue.delete()
            Exchange(EXCHANGE, type="topic")(conn.default_channel).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=150)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    publish_definition()
    machine_baseline()

    from processes.event_bus import bus_drop_connection
    from processes.models import OutboxEvent
    from processes.services.outbox import outbox_relay

    off_sql, off_ms = step_path(args.instances)
    with override_settings(FLOWDESK_EVENT_BUS_URL=BUS_URL):
        on_sql, on_ms = step_path(args.instances)
    print(f"step path: {args.instances} instances x 3 no-op steps, job_run in this process")
    print(f"  bus off:       {off_sql:8.1f} SQL per step  {off_ms:8.2f} ms per step")
    print(f"  bus on:        {on_sql:8.1f} SQL per step  {on_ms:8.2f} ms per step")
    print(
        f"  cost per step: {on_sql - off_sql:+8.1f} SQL          {on_ms - off_ms:+8.2f} ms "
        f"({(on_ms / off_ms - 1) * 100:+.0f} %)"
    )

    seed_outbox(args.events)
    waiting = OutboxEvent.objects.filter(relayed_at__isnull=True).count()
    bus_sink("declare")
    try:
        with override_settings(FLOWDESK_EVENT_BUS_URL=BUS_URL):
            began = time.perf_counter()
            report = outbox_relay()
            elapsed = time.perf_counter() - began
            bus_drop_connection()
    finally:
        bus_sink("delete")
    if report.stopped or report.published != waiting:
        raise SystemExit(f"the relay published {report.published} of {waiting}: {report}")
    print(f"relay: {waiting} events from the outbox to RabbitMQ (publisher confirms)")
    print(f"  events/s:      {waiting / elapsed:8.1f}  in {elapsed:.2f} s")
    print("every event published")


if __name__ == "__main__":
    main()
