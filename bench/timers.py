"""Timers due at the same second, fired by real beat and workers. Prints figures; asserts nothing.

    .venv/bin/python bench/timers.py [--timers 10000] [--workers 2]

N instances of `timer (until ${due}) -> end` are started through `instance_start`, each
with its Timer row and token. Starting 10,000 takes longer than "a few seconds ahead", so
they are started waiting until tomorrow; once a beat process and a worker with W prefork
processes are running (a canary timer has fired), every timer's due time is moved to one
shared whole second, two seconds ahead. Then it reports how long after that second the
last one fired, the lag (fired_at - due_at) p50/p95/max, timers fired per second, and
checks that each timer fired exactly once (one TIMER_FIRED each, every instance completed).

It uses its own database (flowdesk_bench_timers, recreated) and Redis database 8;
BENCH_DATABASE and BENCH_REDIS_DB name others (the test suite's smoke run does).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import machine_baseline, percentile, recreate_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench_timers")
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '8')}",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(BENCH_ENV)
DEADLINE = 600  # seconds the bench waits for anything before it gives up
CANARY = "canary"


def publish_definition() -> None:
    from processes.services import definition_publish

    document = {
        "name": "bench-timer",
        "variables": {"due": "string"},
        "steps": [
            {"id": "pause", "type": "timer", "config": {"until": "${due}"}, "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    }
    definition_publish(source=json.dumps(document), format="json")


def start_instances(count: int) -> None:
    from django.utils import timezone

    from processes.services import instance_start

    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    began = time.perf_counter()
    for n in range(count):
        instance_start(
            definition_key="bench-timer", business_key=f"T-{n}", variables={"due": tomorrow}
        )
    elapsed = time.perf_counter() - began
    print(f"started: {count} instances waiting on a timer in {elapsed:.1f} s")
    print(f"  starting:      {count / elapsed:8.1f} instances/s (instance_start, one process)")


def start_engine(workers: int, schedule: Path) -> list[subprocess.Popen]:
    """A beat process and one worker with `workers` prefork processes, as the Procfile runs
    them."""
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    commands = [
        [*celery, "beat", "--loglevel=WARNING", f"--schedule={schedule}"],
        [
            *celery,
            "worker",
            "--pool=prefork",
            f"--concurrency={workers}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            "--hostname=bench-timers@%h",
        ],
    ]
    return [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,  # the banners; warnings and errors go to stderr
            start_new_session=True,
        )
        for command in commands
    ]


def wait_until(predicate, what: str) -> None:
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > DEADLINE:
            raise SystemExit(f"gave up after {DEADLINE} s waiting for {what}")
        time.sleep(0.05)


def fire_all(count: int) -> None:
    """Wait for the engine (a canary fires), set every timer due at one second, and wait
    until all fired."""
    from django.utils import timezone

    from processes.models import Timer
    from processes.services import instance_start
    from processes.statuses import TimerStatus

    canary = instance_start(
        definition_key="bench-timer",
        business_key=CANARY,
        variables={"due": timezone.now().isoformat()},
    )
    wait_until(
        lambda: Timer.objects.filter(instance=canary, status=TimerStatus.FIRED).exists(),
        "beat and the worker to fire a canary timer",
    )
    due = (timezone.now() + timedelta(seconds=3)).replace(microsecond=0)
    Timer.objects.filter(status=TimerStatus.SCHEDULED).update(due_at=due)
    print(f"due: {count} timers at {due.isoformat()}")
    fired = Timer.objects.filter(status=TimerStatus.FIRED).exclude(instance=canary)
    wait_until(lambda: fired.count() == count, "every timer to fire")


def report(count: int) -> None:
    from processes.models import Event, ProcessInstance, Timer

    timers = Timer.objects.exclude(instance__business_key=CANARY)
    rows = list(timers.values_list("pk", "due_at", "fired_at"))
    due = min(due_at for _, due_at, _ in rows)
    first = min(fired_at for _, _, fired_at in rows)
    last = max(fired_at for _, _, fired_at in rows)
    lags = [(fired_at - due_at).total_seconds() for _, due_at, fired_at in rows]
    print(f"fired: {len(rows)} timers due at the same second")
    print(f"  all fired after: {(last - due).total_seconds():8.2f} s (from the due second)")
    print(f"  lag p50:         {percentile(lags, 50):8.2f} s (fired_at - due_at)")
    print(f"  lag p95:         {percentile(lags, 95):8.2f} s")
    print(f"  lag max:         {max(lags):8.2f} s")
    print(f"  first fired:     {(first - due).total_seconds():8.2f} s after the due second")
    print(
        f"  fired/s:         {len(rows) / max((last - first).total_seconds(), 1e-3):8.1f} "
        "(first to last firing)"
    )
    by_second = Counter(int((fired_at - due).total_seconds()) for _, _, fired_at in rows)
    print(
        "  fired in each second after the due one: "
        + " ".join(str(by_second[s]) for s in range(max(by_second) + 1))
    )

    fired_events = Counter(
        Event.objects.filter(type="TIMER_FIRED")
        .exclude(instance__business_key=CANARY)
        .values_list("payload__timer_id", flat=True)
    )
    completed = (
        ProcessInstance.objects.exclude(business_key=CANARY).filter(status="completed").count()
    )
    twice = [timer_id for timer_id, n in fired_events.items() if n != 1]
    missing = {pk for pk, _, _ in rows} - set(fired_events)
    once = not twice and not missing and completed == count
    print(
        f"exactly once: {'yes' if once else 'NO'} ({len(fired_events)} timers with a "
        f"TIMER_FIRED, {len(twice)} with more than one, {len(missing)} with none; "
        f"{completed} of {count} instances completed)"
    )
    if not once:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (prefork)")
    args = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    publish_definition()
    machine_baseline()
    interval = settings.FLOWDESK_ENGINE["SWEEP_INTERVAL"]
    print(f"engine: beat (sweep every {interval} s) and {args.workers} prefork processes")
    start_instances(args.timers)
    with tempfile.TemporaryDirectory() as scratch:
        procs = start_engine(args.workers, Path(scratch) / "beat-schedule")
        try:
            fire_all(args.timers)
        finally:
            for proc in procs:  # the main processes: a warm shutdown lets a sweep finish
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    report(args.timers)


if __name__ == "__main__":
    main()
