"""Composite steps with real workers, beside the plain service step. Prints figures; asserts
nothing, except that every for-each collected all its items (it exits non-zero otherwise).

    .venv/bin/python bench/composition.py [--instances 1000] [--workers 2] [--items 100]
        [--items-instances 10] [--chains 500] [--paced 20]

One set of W Celery prefork worker processes (real PostgreSQL and Redis) runs, in turn:

1. plain: start -> 3 no-op service steps -> end, N instances (as engine_throughput.py's
   service flow): instances/s and service steps/s.
2. for-each: start -> one service step with `for_each` over a list of `--items` numbers
   (no-op service, results collected as `out`) -> end, M instances: item steps/s (item jobs
   run), instances/s, and that every instance's `out` has one entry per item.
3. subprocess chain: `level0` calls `level1`, which calls `level2`, which runs one no-op
   service step; K instances of `level0`: instances/s and steps/s, a step being any service
   or subprocess step completed (TASK_COMPLETED events of the instances and their children).

For the rates, the workers are paused (SIGSTOP) while a part's instances are started and
resumed once they are all queued, so the starting is not measured with them: the window is
the first of the part's jobs taken to the last of its instances ended. For 2 and 3, p50/p95
start-to-completion latency of `--paced` more instances started one at a time, each after
the one before it ended.

It uses its own database (flowdesk_bench_composition, recreated) and Redis database 7;
BENCH_DATABASE and BENCH_REDIS_DB name others (the test suite's smoke run does).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import (  # noqa: E402
    machine_baseline,
    percentile,
    recreate_database,
    start_workers,
)

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench_composition")
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '7')}",
    "SERVICE_MODULES": "processes.demo_services,bench.services",
    "FLOWDESK_LEASE_GRACE": "30",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(BENCH_ENV)

PLAIN, FOR_EACH, CHAIN = "bench-three-steps", "bench-for-each", "level0"
CHAIN_LEVELS = ("level0", "level1", "level2")
GIVE_UP = 600  # seconds a part may take


class Workers:
    """The worker processes, each the leader of its process group (its prefork children)."""

    def __init__(self, count: int):
        self.procs: list[subprocess.Popen] = start_workers(count)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait()

    def _signal(self, sig: signal.Signals) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, sig)


def publish_definitions() -> None:
    from processes.services import definition_publish

    def publish(key: str, steps: list[dict]) -> None:
        document = {"name": key, "version": "1", "steps": [*steps, {"id": "end", "type": "end"}]}
        definition_publish(source=json.dumps(document), format="json")

    def noop(step_id: str, following: str, **config) -> dict:
        config = {"service_name": "bench.noop", **config}
        return {"id": step_id, "type": "service_task", "config": config, "next": [following]}

    publish(PLAIN, [noop("s1", "s2"), noop("s2", "s3"), noop("s3", "end")])
    publish(FOR_EACH, [noop("each", "end", for_each={"items": "${items}", "collect": "out"})])
    publish("level2", [noop("work", "end")])
    for level, calls in (("level1", "level2"), ("level0", "level1")):
        call = {"id": "call", "type": "subprocess", "config": {"definition": calls}}
        publish(level, [{**call, "next": ["end"]}])


def top_level(key: str, prefix: str):
    from processes.models import ProcessInstance

    return ProcessInstance.objects.filter(definition__key=key, business_key__startswith=prefix)


def wait_ended(key: str, prefix: str, total: int) -> None:
    """Until the part's `total` instances ended; a failed one ends the bench."""
    began = time.perf_counter()
    instances = top_level(key, prefix)
    while instances.filter(status="completed").count() < total:
        failed = instances.filter(status="failed").first()
        if failed is not None:
            raise SystemExit(f"FAILED: {key} instance {failed.pk} failed: {failed.error}")
        if time.perf_counter() - began > GIVE_UP:
            raise SystemExit(f"FAILED: {key} instances not all completed after {GIVE_UP} s")
        time.sleep(0.05)


def burst(workers: Workers, key: str, prefix: str, count: int, variables: dict) -> float:
    """Start `count` instances with the workers paused, then let them run: seconds from the
    first job taken (the parts before have ended) to the last instance ended."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from processes.models import Job
    from processes.services import instance_start

    queued_from = timezone.now()
    workers.pause()
    try:
        for n in range(count):
            instance_start(definition_key=key, business_key=f"{prefix}{n}", variables=variables)
    finally:
        workers.resume()
    wait_ended(key, prefix, count)
    first = Job.objects.filter(started_at__gte=queued_from).aggregate(at=Min("started_at"))["at"]
    last = top_level(key, prefix).aggregate(at=Max("ended_at"))["at"]
    return (last - first).total_seconds()


def paced(key: str, prefix: str, count: int, variables: dict) -> list[float]:
    """Start-to-completion of `count` instances started one at a time."""
    from processes.models import ProcessInstance
    from processes.services import instance_start

    for n in range(count):
        instance = instance_start(
            definition_key=key, business_key=f"{prefix}{n}", variables=variables
        )
        began = time.perf_counter()
        while (
            status := ProcessInstance.objects.values_list("status", flat=True).get(pk=instance.pk)
        ) not in ("completed", "failed", "cancelled"):
            if time.perf_counter() - began > GIVE_UP:
                raise SystemExit(f"FAILED: {key} instance {instance.pk} still {status}")
            time.sleep(0.005)
        if status != "completed":
            raise SystemExit(f"FAILED: {key} instance {instance.pk} ended {status}")
    return [
        (ended - created).total_seconds()
        for created, ended in top_level(key, prefix).values_list("created_at", "ended_at")
    ]


def print_latency(latencies: list[float]) -> None:
    print(f"  latency p50:   {percentile(latencies, 50) * 1000:8.1f} ms start-to-completion")
    print(
        f"  latency p95:   {percentile(latencies, 95) * 1000:8.1f} ms "
        f"({len(latencies)} started one at a time)"
    )


def plain_part(workers: Workers, instances: int, count: int) -> None:
    from processes.models import Job

    seconds = burst(workers, PLAIN, "plain-", instances, {})
    steps = Job.objects.filter(
        instance__business_key__startswith="plain-", status="succeeded"
    ).count()
    print(f"plain: {instances} instances x 3 no-op service steps, {count} prefork processes")
    print(f"  instances/s:   {instances / seconds:8.1f}")
    print(f"  steps/s:       {steps / seconds:8.1f} (service steps)")


def for_each_part(workers: Workers, instances: int, items: int, paced_count: int) -> bool:
    """The for-each figures; False when an instance's `out` lacks items."""
    from processes.models import Job

    variables = {"items": list(range(items))}
    seconds = burst(workers, FOR_EACH, "each-", instances, variables)
    item_jobs = Job.objects.filter(
        instance__business_key__startswith="each-", status="succeeded"
    ).count()
    print(f"for-each: {instances} instances x 1 step over {items} items (no-op service, parallel)")
    print(f"  instances/s:   {instances / seconds:8.1f}")
    print(f"  steps/s:       {item_jobs / seconds:8.1f} (item steps: {item_jobs} item jobs run)")
    print_latency(paced(FOR_EACH, "each-paced-", paced_count, variables))

    total = instances + paced_count
    short = [
        (pk, len(out) if isinstance(out, list) else out)
        for pk, out in top_level(FOR_EACH, "each").values_list("pk", "variables__out")
        if not (isinstance(out, list) and len(out) == items)
    ]
    if short:
        for pk, got in short:
            print(f"  FAILED: instance {pk}'s out has {got!r} entries, not {items}")
        return False
    print(f"  collected:     every one of the {total} instances' out has {items} entries")
    return True


def chain_part(workers: Workers, instances: int, paced_count: int) -> None:
    from processes.models import Event

    seconds = burst(workers, CHAIN, "chain-", instances, {})
    steps = Event.objects.filter(
        type="TASK_COMPLETED", instance__definition__key__in=CHAIN_LEVELS
    ).count()
    print(f"subprocess chain: {instances} instances of level0 -> level1 -> level2 -> no-op step")
    print(f"  instances/s:   {instances / seconds:8.1f} (level0 instances, 3 instances each)")
    print(f"  steps/s:       {steps / seconds:8.1f} (2 subprocess + 1 service step each)")
    print_latency(paced(CHAIN, "chain-paced-", paced_count, {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000, help="plain instances")
    parser.add_argument("--workers", type=int, default=2, help="prefork processes")
    parser.add_argument("--items", type=int, default=100, help="items per for-each")
    parser.add_argument("--items-instances", type=int, default=10, help="for-each instances")
    parser.add_argument("--chains", type=int, default=500, help="subprocess chain instances")
    parser.add_argument("--paced", type=int, default=20, help="latency samples per composite")
    args = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    publish_definitions()
    machine_baseline()

    from processes.services import instance_start

    workers = Workers(args.workers)
    try:
        instance_start(definition_key=PLAIN, business_key="warm-up")  # the workers are up
        wait_ended(PLAIN, "warm-up", 1)
        plain_part(workers, args.instances, args.workers)
        collected = for_each_part(workers, args.items_instances, args.items, args.paced)
        chain_part(workers, args.chains, args.paced)
    finally:
        workers.stop()
    if not collected:
        sys.exit(1)


if __name__ == "__main__":
    main()
