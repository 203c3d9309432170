"""Purging beside live traffic, with real workers on PostgreSQL + Redis. Prints figures;
asserts nothing.

    .venv/bin/python bench/purge.py [--finished 20000] [--paced 150] [--workers 2] [--batch 1000]

N finished instances past their retention are seeded with SQL (each with 3 tokens, 2 jobs,
a completed task and its candidate group, 8 events, as a two-step flow with an approval
leaves them). Then paced starts (one every 20 ms) of start -> 3 no-op service steps -> end
run on W worker processes, twice:

1. alone: each service step's time (its job's lease to its finish) and each instance's
   start-to-completion, p50 / p95 / max;
2. while `instances_purge_expired` deletes the N instances in batches (in a thread of this
   process, as the beat's task would on a worker): the same figures, the purge's rate, its
   batches and the longest one (a batch's transaction, commit included).

What the purge cost the live instances is the difference between the two runs' figures; the
issue's bound is the longest batch. Failed live instances are counted (there should be none).

It uses its own database (flowdesk_purgebench, recreated) and Redis database 11 (as
bench/instances_list.py); BENCH_DATABASE and BENCH_REDIS_DB name others.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_purgebench")
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '11')}",
    "SERVICE_MODULES": "processes.demo_services,bench.services",
    "FLOWDESK_LEASE_GRACE": "30",
    "LOG_LEVEL": "WARNING",
}
FLOW = "bench-three-steps"
ARCHIVE = "bench-archive"  # the seeded instances' definition: retention 30 days

# One chunk of finished instances lo..hi, every row derived from n. Completed two-step
# instances: a service step, then an approval by a candidate group.
SEED_SQL = """
WITH g AS (
    SELECT n, %(prefix)s || lpad(n::text, 8, '0') AS id,
           %(ended)s::timestamptz - (n %% 3600) * interval '1 second' AS at
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS n
), instances AS (
    INSERT INTO processes_processinstance (id, definition_id, definition_version_id, status,
        variables, business_key, active_tokens, created_at, updated_at, ended_at)
    SELECT id, %(definition)s, %(version)s, 'completed', jsonb_build_object('n', n),
        'ARCHIVED-' || n, 0, at - interval '1 hour', at, at
    FROM g
), tokens AS (
    INSERT INTO processes_token (instance_id, node_id, status, holder, arrived_from,
        created_at, ended_at)
    SELECT g.id, s.node, 'done', s.holder, '', g.at - interval '1 hour', g.at
    FROM g CROSS JOIN (VALUES ('charge', 'job'), ('approve', 'task'), ('notify', 'job'))
        AS s(node, holder)
    RETURNING id, instance_id, node_id, holder, created_at
), jobs AS (
    INSERT INTO processes_job (instance_id, token_id, step_id, service, input, status, attempt,
        timeout_seconds, due_at, lease_losses, result, error, error_message, traceback,
        created_at, started_at, finished_at)
    SELECT instance_id, id, node_id, 'bench.noop', '{}', 'succeeded', 1, 30, created_at, 0,
        '{}', '', '', '', created_at, created_at, created_at
    FROM tokens WHERE holder = 'job'
), tasks AS (
    INSERT INTO tasks_task (instance_id, token_id, step_id, name, state, form, priority,
        created_at, completed_at, result)
    SELECT instance_id, id, node_id, 'Approve', 'completed', '{}', 0, created_at, created_at,
        '{"approved": true}'
    FROM tokens WHERE holder = 'task'
    RETURNING id
), candidates AS (
    INSERT INTO tasks_task_candidate_groups (task_id, group_id) SELECT id, %(group)s FROM tasks
)
INSERT INTO processes_event (instance_id, type, step_id, payload, created_at)
SELECT g.id, e.type, e.step, '{}', g.at
FROM g CROSS JOIN (VALUES ('WORKFLOW_STARTED', ''), ('TASK_SCHEDULED', 'charge'),
    ('TASK_COMPLETED', 'charge'), ('TASK_SCHEDULED', 'approve'), ('TASK_COMPLETED', 'approve'),
    ('TASK_SCHEDULED', 'notify'), ('TASK_COMPLETED', 'notify'), ('WORKFLOW_COMPLETED', ''))
    AS e(type, step)
"""


def seed_finished(
    *,
    definition_id: int,
    version_id: int,
    group_id: int,
    count: int,
    ended: datetime,
    prefix: str = "archived-",
    chunk: int = 10_000,
) -> None:
    """Insert `count` completed instances of the version that ended up to an hour before
    `ended`, with their rows, `chunk` per transaction (the tests seed with it too)."""
    from django.db import connection, transaction

    params = {
        "prefix": prefix,
        "ended": ended,
        "definition": definition_id,
        "version": version_id,
        "group": group_id,
    }
    for lo in range(1, count + 1, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SEED_SQL, {**params, "lo": lo, "hi": min(count, lo + chunk - 1)})


def start_workers(count: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork"]
    options = ["--without-mingle", "--without-gossip", "--loglevel=WARNING"]
    return subprocess.Popen(
        [*command, *options, f"--concurrency={count}", "--hostname=purgebench@%h"],
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
    )


def paced_run(label: str, paced: int, *, until: threading.Event | None = None) -> int:
    """Start `paced` instances one every 20 ms (and more while `until` is not set); wait
    until all are finished; returns how many were started."""
    from processes.models import ProcessInstance
    from processes.services import instance_start

    started = 0
    while started < paced or (until is not None and not until.is_set()):
        instance_start(definition_key=FLOW, business_key=f"{label}-{started}")
        started += 1
        time.sleep(0.02)
    mine = ProcessInstance.objects.filter(business_key__startswith=f"{label}-")
    began = time.perf_counter()
    while mine.filter(status__in=("running", "pending")).exists():
        time.sleep(0.05)
        if time.perf_counter() - began > 600:
            raise SystemExit("gave up after 600 s")
    return started


def report(label: str, started: int) -> None:
    from django.db.models import F

    from bench.support import percentile
    from processes.models import Job, ProcessInstance

    mine = ProcessInstance.objects.filter(business_key__startswith=f"{label}-")
    latencies = [
        (ended - created).total_seconds() * 1000
        for created, ended in mine.filter(status="completed").values_list("created_at", "ended_at")
    ]
    steps = [
        seconds.total_seconds() * 1000
        for seconds in Job.objects.filter(instance__in=mine)
        .annotate(took=F("finished_at") - F("started_at"))
        .values_list("took", flat=True)
        if seconds is not None
    ]
    failed = mine.exclude(status="completed").count()
    print(f"  instances:     {started:8d} started, {len(latencies)} completed, {failed} not")
    for name, values in (("step", steps), ("latency", latencies)):
        p50, p95 = percentile(values, 50), percentile(values, 95)
        print(
            f"  {name + ' p50/p95/max:':<22}{p50:8.1f} {p95:8.1f} {max(values):8.1f} ms"
            + (" (job lease to finish)" if name == "step" else " (start to completion)")
        )


def purge_beside_traffic(paced: int, batch: int) -> None:
    from django.db import connection

    from processes.models import ProcessInstance
    from processes.services import instances_purge_expired

    done = threading.Event()
    outcome: dict = {}

    def purge() -> None:
        try:
            began = time.perf_counter()
            outcome["report"] = instances_purge_expired(batch_size=batch)
            outcome["seconds"] = time.perf_counter() - began
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=purge)
    thread.start()
    started = paced_run("WITH", paced, until=done)
    thread.join()
    result, seconds = outcome["report"], outcome["seconds"]
    print(f"with the purge: {result.instances:,} finished instances deleted meanwhile")
    report("WITH", started)
    print(f"  purge:         {seconds:8.1f} s, {result.instances / seconds:8.0f} instances/s")
    print(f"  batches:       {result.batches:8d} of up to {batch} instances")
    print(f"  longest batch: {result.longest_batch_seconds * 1000:8.1f} ms (commit included)")
    left = ProcessInstance.objects.filter(business_key__startswith="ARCHIVED-").count()
    print(f"  left behind:   {left:8d} seeded instances")


def publish_definitions() -> tuple[int, int, int]:
    import json

    from django.contrib.auth.models import Group

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
    three = {"name": FLOW, "steps": [*steps, {"id": "end", "type": "end"}]}
    definition_publish(source=json.dumps(three), format="json")
    archive = {
        "name": ARCHIVE,
        "retention": "30d",
        "steps": [
            {
                "id": "charge",
                "type": "service_task",
                "config": {"service_name": "bench.noop"},
                "next": ["approve"],
            },
            {
                "id": "approve",
                "type": "user_task",
                "config": {"candidate_groups": ["clerks"]},
                "next": ["notify"],
            },
            {"id": "notify", "type": "service_task", "config": {"service_name": "bench.noop"}},
        ],
    }
    version = definition_publish(source=json.dumps(archive), format="json")
    group, _ = Group.objects.get_or_create(name="clerks")
    return version.definition_id, version.pk, group.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finished", type=int, default=20_000)
    parser.add_argument("--paced", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.update(BENCH_ENV)
    from bench.support import machine_baseline, recreate_database

    recreate_database(DATABASE)
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    definition_id, version_id, group_id = publish_definitions()
    machine_baseline()
    began = time.perf_counter()
    seed_finished(
        definition_id=definition_id,
        version_id=version_id,
        group_id=group_id,
        count=args.finished,
        ended=timezone.now() - timedelta(days=40),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - began
    print(f"seeded {args.finished:,} finished instances past their retention in {seconds:.1f} s")
    workers = start_workers(args.workers)
    try:
        paced_run("WARMUP", 10)  # the workers are up and their connections open
        print(f"alone: {args.paced} paced starts, {args.workers} prefork processes")
        report("ALONE", paced_run("ALONE", args.paced))
        purge_beside_traffic(args.paced, args.batch)
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        workers.wait()


if __name__ == "__main__":
    main()
