"""Correlating messages: how many per second reach their waiting step. Prints figures;
asserts nothing but that every message was delivered exactly once.

    .venv/bin/python bench/messages.py [--messages 5000] [--processes 2]

1. Starts `--messages` instances of a definition whose first step is a `message_catch`
   keyed by the instance's number (each start opens one Subscription row).
2. Correlates one message per instance with `message_correlate`, split over
   `--processes` OS processes (each its own database connection), and prints messages/s
   and the latency of one call (p50/p95).
3. Sends as many messages again with a ttl before their instances exist (buffered), then
   starts those instances, which take their message as they open their wait, and prints
   both rates.

Each delivery is a full unit of work on the instance: its row lock, the subscription row,
the MESSAGE_RECEIVED event, the variables merged, and the step after it (the end).

It uses its own database (flowdesk_bench_messages, recreated; BENCH_DATABASE names another)
and Redis database 13 (BENCH_REDIS_DB); no worker is needed, nothing here is a service step.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import percentile, recreate_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench_messages")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '13')}",
        "LOG_LEVEL": "WARNING",
    }
)

DEFINITION = {
    "name": "bench-payment",
    "variables": {"n": "integer"},
    "steps": [
        {
            "id": "wait",
            "type": "message_catch",
            "config": {"message": "paid", "correlation_key": "${n}"},
            "next": ["done"],
        },
        {"id": "done", "type": "end"},
    ],
}


def start_all(numbers: range) -> float:
    """Start one instance per number; the seconds it took."""
    from processes.services import instance_start

    began = time.perf_counter()
    for n in numbers:
        instance_start(definition_key="bench-payment", variables={"n": n})
    return time.perf_counter() - began


def correlate_part(numbers: list[int], ttl: float | None, queue) -> None:
    """One process's share: a message per number; reports each call's seconds."""
    import django

    django.setup()
    from processes.services import message_correlate

    latencies = []
    for n in numbers:
        began = time.perf_counter()
        message_correlate(name="paid", correlation_key=n, variables={"paid": n}, ttl_seconds=ttl)
        latencies.append(time.perf_counter() - began)
    queue.put(latencies)


def correlate_all(numbers: range, *, processes: int, ttl: float | None) -> tuple[float, list]:
    """Correlate a message per number over `processes` processes; (seconds, latencies)."""
    from django.db import connections

    connections.close_all()  # each child opens its own
    queue = multiprocessing.Queue()
    parts = [list(numbers)[i::processes] for i in range(processes)]
    workers = [
        multiprocessing.Process(target=correlate_part, args=(part, ttl, queue)) for part in parts
    ]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    latencies = [seconds for _ in workers for seconds in queue.get()]
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise SystemExit(f"a correlating process failed (exit code {worker.exitcode})")
    return time.perf_counter() - began, latencies


def check_delivered(count: int) -> None:
    from processes.models import Event, ProcessInstance

    completed = ProcessInstance.objects.filter(status="completed").count()
    received = Event.objects.filter(type="MESSAGE_RECEIVED").count()
    if completed != count or received != count:
        raise SystemExit(f"expected {count} completed and delivered, got {completed}/{received}")


def report(what: str, count: int, seconds: float, latencies: list | None = None) -> None:
    line = f"{what:<44} {count:>6,} in {seconds:6.1f} s  {count / seconds:8.1f} /s"
    if latencies:
        p50, p95 = (percentile(latencies, p) * 1000 for p in (50, 95))
        line += f"  call p50 {p50:.1f} ms  p95 {p95:.1f} ms"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    count = args.messages

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command

    from processes.services import definition_publish

    call_command("migrate", verbosity=0)
    definition_publish(source=json.dumps(DEFINITION), format="json")
    print(f"messages bench: {count:,} messages, {args.processes} processes, {DATABASE}")

    waiting = range(count)
    report("instances started (each opens its wait)", count, start_all(waiting))
    seconds, latencies = correlate_all(waiting, processes=args.processes, ttl=None)
    report("messages delivered to waiting steps", count, seconds, latencies)
    check_delivered(count)

    early = range(count, 2 * count)
    seconds, latencies = correlate_all(early, processes=args.processes, ttl=3600)
    report("messages buffered (nothing waits yet)", count, seconds, latencies)
    report("instances started, each taking its message", count, start_all(early))
    check_delivered(2 * count)
    print("every message delivered exactly once", flush=True)


if __name__ == "__main__":
    main()
