"""Engine throughput with real workers on PostgreSQL + Redis. Prints figures; asserts nothing.

    .venv/bin/python bench/engine_throughput.py [--instances 1000] [--workers 2] [--tasks 500]

1. start -> 3 no-op service steps -> end, N instances started while W worker processes
   (Celery prefork) run them: instances/s, service steps/s, p50/p95 start-to-completion,
   and the CPU the workers, PostgreSQL and Redis used per step meanwhile.
2. The same step path run in this process: SQL statements per step, time per step, and a
   profile of where that time goes.
3. start -> user step -> end: human tasks completed per second through `task_complete`.

It uses its own database (flowdesk_bench, recreated) and Redis database 14; BENCH_DATABASE
and BENCH_REDIS_DB name others (the test suite's smoke run of this script does).
"""

from __future__ import annotations

import argparse
import os
import signal
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
from bench.where_time_goes import CpuMeter, print_cpu, profile_steps  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench")
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '14')}",
    "SERVICE_MODULES": "processes.demo_services,bench.services",
    "FLOWDESK_LEASE_GRACE": "30",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(BENCH_ENV)


def wait_completed(total: int, began: float) -> None:
    from processes.models import ProcessInstance

    while ProcessInstance.objects.filter(status="completed").count() < total:
        time.sleep(0.05)
        if time.perf_counter() - began > 600:
            raise SystemExit("gave up after 600 s")


def service_flow(instances: int, workers: int, pool: str, paced: int) -> None:
    """Throughput: instances queued first, then drained by the workers; latency: paced starts."""
    from django.db.models import Max, Min

    from processes.models import Job, ProcessInstance
    from processes.services import instance_start

    began = time.perf_counter()
    for n in range(instances):
        instance_start(definition_key="bench-three-steps", business_key=f"B-{n}")
    start_rate = instances / (time.perf_counter() - began)
    procs = start_workers(workers, pool)
    meter = CpuMeter([proc.pid for proc in procs])
    try:
        booting = time.perf_counter()
        while not Job.objects.exclude(status="scheduled").exists():  # the workers are up
            time.sleep(0.01)
            if time.perf_counter() - booting > 120:
                raise SystemExit("the workers took no job in 120 s")
        meter.start()
        wait_completed(instances, time.perf_counter())
        cpu_used, cpu_seconds = meter.stop()
        window = Job.objects.aggregate(a=Min("started_at"), b=Max("finished_at"))
        seconds = (window["b"] - window["a"]).total_seconds()
        steps = Job.objects.filter(status="succeeded").count()
        print(f"service flow: {instances} instances x 3 no-op steps, {workers} {pool} processes")
        print(f"  starting:      {start_rate:8.1f} instances/s (instance_start, one process)")
        print(f"  instances/s:   {instances / seconds:8.1f} (queue drained by the workers)")
        print(f"  steps/s:       {steps / seconds:8.1f}")
        print_cpu(cpu_used, cpu_seconds, steps)

        first_paced = ProcessInstance.objects.count()
        for n in range(paced):
            instance_start(definition_key="bench-three-steps", business_key=f"P-{n}")
            time.sleep(0.02)
        wait_completed(first_paced + paced, time.perf_counter())
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait()
    latencies = [
        (ended - created).total_seconds()
        for created, ended in ProcessInstance.objects.filter(
            business_key__startswith="P-"
        ).values_list("created_at", "ended_at")
    ]
    print(f"  latency p50:   {percentile(latencies, 50) * 1000:8.1f} ms start-to-completion")
    print(f"  latency p95:   {percentile(latencies, 95) * 1000:8.1f} ms ({paced} paced starts)")


def step_path(samples: int = 150) -> None:
    """The workers' code path for the same flow, run in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes.models import Job
    from processes.services import instance_start, job_run

    def start_instances() -> None:
        for _ in range(samples):
            instance_start(definition_key="bench-three-steps")

    def run_scheduled(queries: list[int] | None = None) -> int:
        done_before = Job.objects.filter(status="succeeded").count()
        while ids := list(Job.objects.filter(status="scheduled").values_list("id", flat=True)):
            for job_id in ids:
                if queries is None:
                    job_run(job_id=job_id)
                    continue
                with CaptureQueriesContext(connection) as captured:
                    job_run(job_id=job_id)
                queries.append(len(captured))
        return Job.objects.filter(status="succeeded").count() - done_before

    with CaptureQueriesContext(connection) as start_queries:
        start_instances()
    step_queries: list[int] = []
    steps = run_scheduled(step_queries)
    print(f"step path: {samples} instances' steps run in this process (job_run, as a worker)")
    print(f"  SQL per start: {len(start_queries) / samples:8.1f} statements (incl. BEGIN/COMMIT)")
    print(f"  SQL per step:  {sum(step_queries) / steps:8.1f} statements (incl. BEGIN/COMMIT)")
    profile_steps(start_instances, run_scheduled)


def human_flow(tasks: int) -> None:
    from django.contrib.auth import get_user_model

    from processes.services import instance_start
    from tasks.models import Task
    from tasks.services import task_complete

    user = get_user_model().objects.create_user("bench-clerk")
    for _ in range(tasks):
        instance_start(definition_key="bench-approval", variables={"who": "bench-clerk"})
    pending = list(Task.objects.filter(state="assigned"))
    began = time.perf_counter()
    for task in pending:
        task_complete(task=task, user=user, variables={"approved": True})
    elapsed = time.perf_counter() - began
    print(f"human flow: {len(pending)} tasks completed through task_complete (one process)")
    print(f"  tasks/s:       {len(pending) / elapsed:8.1f}")


def publish_definitions() -> None:
    import json

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
    approval = {
        "name": "bench-approval",
        "steps": [
            {
                "id": "approve",
                "type": "user_task",
                "config": {"assignee": "${who}", "form": {"approved": "boolean"}},
                "next": ["end"],
            },
            {"id": "end", "type": "end"},
        ],
    }
    definition_publish(source=json.dumps(approval), format="json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--pool", choices=("prefork", "solo"), default="prefork")
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
    service_flow(args.instances, args.workers, args.pool, args.paced)
    step_path()
    human_flow(args.tasks)


if __name__ == "__main__":
    main()
