"""The cases page (/instances/) on 1,000,000 instances. Prints figures; asserts nothing.

    .venv/bin/python bench/instances_list.py [--instances 1000000] [--renders 40] [--fresh]

Seeds, with `INSERT ... SELECT generate_series` in chunks of 100,000 (one transaction each),
instances of the four examples spread over a year: 62 % completed, 8 % cancelled, 25 %
running, 2 % suspended, 3 % failed, started by 1,000 people. Every running or suspended
instance holds one active token, two in three of them on a user step with its task (40 %
assigned, 60 % open for one of 500 teams), the others on a service step; a failed one holds
a failed token. `bench-clerk` started every 5,000th instance and is in one team, so they see
a few hundred; `bench-manager` sees them all, and is in another team.

Then it renders /instances/ through Django's full request cycle in this process (middleware,
session, queries, templates; no network) for both, unfiltered, searched and filtered, and
prints p50/p95 in ms and the SQL queries per page; and what an exact `COUNT(*)` of every
instance would cost, which the page does not pay.

It uses its own database (flowdesk_bench_cases; BENCH_DATABASE names another) and KEEPS it:
seeding takes minutes, so a run reuses what an earlier one seeded (it migrates, and finishes
an interrupted seeding where it stopped). `--fresh` drops it and starts over;
`--processes-migration 0004` measures without the indexes of migration 0005.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import percentile, recreate_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "flowdesk_bench_cases")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "testserver",
        # Static files straight from the app folders (no collectstatic); not what is measured.
        "TESTING": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '11')}",
        "LOG_LEVEL": "WARNING",
    }
)

UNUSABLE = "!"  # Django's mark of an unusable password
CHUNK = 100_000
STARTERS = 1000
TEAMS = 500
CLERK_STARTS_EVERY = 5000
# Instance n is created at ANCHOR + n * 30 s: a year for a million, and the same instant for
# the same n in every run, so an interrupted seeding resumes without a seam.
ANCHOR = "2025-12-01T00:00:00+00:00"
ID_DIGITS = 7


def database_exists() -> bool:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        return found.fetchone() is not None


def people_and_processes() -> dict:
    """Users, teams and the four examples (created once, found again on a rerun)."""
    from django.contrib.auth.models import Group, User

    from accounts.roles import MANAGER, USER
    from processes.models import graph_of_version
    from processes.nodes import NodeType
    from processes.services import definition_publish

    role_user, role_manager = Group.objects.get(name=USER), Group.objects.get(name=MANAGER)
    if not User.objects.filter(username="bench-clerk").exists():
        starters = User.objects.bulk_create(
            User(username=f"starter{n:04d}", password=UNUSABLE) for n in range(STARTERS)
        )
        teams = Group.objects.bulk_create(Group(name=f"team-{n:03d}") for n in range(TEAMS))
        clerk = User.objects.create(username="bench-clerk", password=UNUSABLE)
        manager = User.objects.create(username="bench-manager", password=UNUSABLE)
        memberships = User.groups.through
        memberships.objects.bulk_create(
            [memberships(user_id=u.pk, group_id=role_user.pk) for u in (*starters, clerk)]
            + [
                memberships(user_id=u.pk, group_id=teams[n % TEAMS].pk)
                for n, u in enumerate(starters)
            ]
            + [
                memberships(user_id=clerk.pk, group_id=teams[0].pk),
                memberships(user_id=manager.pk, group_id=role_manager.pk),
                memberships(user_id=manager.pk, group_id=teams[1].pk),
            ]
        )
    processes = []
    for source in sorted((ROOT / "examples").iterdir()):
        version = definition_publish(source=source.read_text(), format=source.suffix[1:])
        graph = graph_of_version(version.pk)
        steps = {kind: [n.id for n in graph.nodes.values() if n.type == kind] for kind in NodeType}
        processes.append(
            {
                "definition": version.definition_id,
                "version": version.pk,
                "prefix": "".join(word[0] for word in version.definition.key.split("-")).upper(),
                "user_step": (steps[NodeType.USER] or steps[NodeType.SERVICE])[0],
                "service_step": steps[NodeType.SERVICE][0],
            }
        )
    users = User.objects.filter(username__startswith="starter").order_by("username")
    return {
        "processes": processes,
        "starters": list(users.values_list("pk", flat=True)),
        "teams": list(
            Group.objects.filter(name__startswith="team-")
            .order_by("name")
            .values_list("pk", flat=True)
        ),
        "clerk": User.objects.get(username="bench-clerk"),
        "manager": User.objects.get(username="bench-manager"),
    }


# One chunk: instances n = lo..hi, then their tokens, tasks and candidate teams. Every column
# derives from n, so a chunk written again (never: it commits whole) would be the same.
CHUNK_SQL = """
WITH g AS (
    SELECT n, n %% 4 AS d, (n * 7919) %% 1000 AS r,
           %(anchor)s::timestamptz + n * interval '30 seconds' AS at
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS n
), rows AS (
    SELECT n, d, at, 'b' || lpad(n::text, %(digits)s::int, '0') AS id,
           CASE WHEN r < 250 THEN 'running' WHEN r < 270 THEN 'suspended'
                WHEN r < 300 THEN 'failed' WHEN r < 380 THEN 'cancelled'
                ELSE 'completed' END AS status,
           (n * 13) %% 3 <> 0 AS on_user_step
    FROM g
), instances AS (
    INSERT INTO processes_processinstance (id, definition_id, definition_version_id, status,
        variables, business_key, started_by_id, active_tokens, error, created_at, updated_at,
        ended_at)
    SELECT id, (%(definitions)s::bigint[])[d + 1], (%(versions)s::bigint[])[d + 1], status,
        jsonb_build_object('amount', n %% 10000, 'description', 'Bench case ' || n),
        (%(prefixes)s::text[])[d + 1] || '-' || lpad(n::text, %(digits)s::int, '0'),
        CASE WHEN n %% %(clerk_every)s::int = 0 THEN %(clerk)s::int
             ELSE (%(starters)s::int[])[1 + (n * 31) %% %(starter_count)s::int] END,
        CASE WHEN status IN ('running', 'suspended') THEN 1 ELSE 0 END,
        CASE WHEN status = 'failed' THEN '{"error": "Timeout", "message": "bench"}'::jsonb END,
        at, at, CASE WHEN status IN ('completed', 'cancelled') THEN at + interval '2 hours' END
    FROM rows
    RETURNING id
), tokens AS (
    INSERT INTO processes_token (instance_id, node_id, status, holder, arrived_from, created_at)
    SELECT id,
        CASE WHEN on_user_step AND status <> 'failed' THEN (%(user_steps)s::text[])[d + 1]
             ELSE (%(service_steps)s::text[])[d + 1] END,
        CASE WHEN status = 'failed' THEN 'failed' ELSE 'active' END,
        CASE WHEN on_user_step AND status <> 'failed' THEN 'task' ELSE 'job' END, '', at
    FROM rows WHERE status IN ('running', 'suspended', 'failed')
    RETURNING id, instance_id, node_id, created_at
), tasks AS (
    INSERT INTO tasks_task (instance_id, token_id, step_id, name, state, assignee_id, form,
        due_date, priority, created_at, claimed_at)
    SELECT t.instance_id, t.id, t.node_id, 'Look at the case',
        CASE WHEN t.id %% 5 < 2 THEN 'assigned' ELSE 'open' END,
        CASE WHEN t.id %% 5 < 2
             THEN (%(starters)s::int[])[1 + (t.id * 13) %% %(starter_count)s::int] END,
        '{"approved": {"type": "boolean", "required": true}}'::jsonb,
        t.created_at + interval '2 days', (t.id %% 5)::int, t.created_at,
        CASE WHEN t.id %% 5 < 2 THEN t.created_at + interval '1 hour' END
    FROM tokens t
    WHERE t.node_id = ANY(%(task_steps)s::text[])
    RETURNING id, instance_id, state
)
INSERT INTO tasks_task_candidate_groups (task_id, group_id)
SELECT id, (%(teams)s::int[])[1 + (id * 17) %% %(team_count)s::int] FROM tasks WHERE state = 'open'
"""


def seed(world: dict, total: int) -> None:
    """Instances 1..total, resuming after the highest one an earlier run committed."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM processes_processinstance WHERE id LIKE 'b%%'")
        highest = cursor.fetchone()[0]
    done = int(highest[1:]) if highest else 0
    if done >= total:
        print(f"reusing {done:,} seeded instances in {DATABASE}")
        return
    processes = world["processes"]
    user_steps = [p["user_step"] for p in processes]
    params = {
        "anchor": ANCHOR,
        "digits": ID_DIGITS,
        "definitions": [p["definition"] for p in processes],
        "versions": [p["version"] for p in processes],
        "prefixes": [p["prefix"] for p in processes],
        "user_steps": user_steps,
        "service_steps": [p["service_step"] for p in processes],
        # A definition without a user step puts its "user step" tokens on a service step.
        "task_steps": [
            step for step, p in zip(user_steps, processes, strict=True) if step != p["service_step"]
        ],
        "clerk": world["clerk"].pk,
        "clerk_every": CLERK_STARTS_EVERY,
        "starters": world["starters"],
        "starter_count": len(world["starters"]),
        "teams": world["teams"],
        "team_count": len(world["teams"]),
    }
    began = time.perf_counter()
    for lo in range(done + 1, total + 1, CHUNK):
        hi = min(total, lo + CHUNK - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CHUNK_SQL, {**params, "lo": lo, "hi": hi})
        seconds = time.perf_counter() - began
        print(f"  seeded instances {lo:,}..{hi:,} ({seconds:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    print(f"seeded {total - done:,} instances in {time.perf_counter() - began:.0f} s")


def timed_count() -> None:
    """What an exact count of every instance costs: the page shows at most "1,000+"."""
    from django.db import connection

    from processes.models import ProcessInstance

    timings = []
    for _ in range(5):
        began = time.perf_counter()
        total = ProcessInstance.objects.count()
        timings.append((time.perf_counter() - began) * 1000)
    print(f"exact COUNT(*) of {total:,} instances: p50 {percentile(timings, 50):.1f} ms")
    connection.close()


def render(client, url: str, renders: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm: templates compiled, connection open, graphs cached
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")
    timings = []
    for _ in range(renders):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
    rows = response.content.count(b'class="case-row"')
    print(
        f"  {url:<44} p50 {percentile(timings, 50):6.1f} ms   p95 {percentile(timings, 95):6.1f} ms"
        f"   {len(queries)} queries   {rows} rows"
    )


def measure(world: dict, renders: int) -> None:
    from django.test import Client

    from processes.instance_lists import page_cursor
    from processes.models import ProcessDefinition, ProcessInstance

    leave = ProcessDefinition.objects.get(key="leave-request").pk
    total = ProcessInstance.objects.filter(pk__startswith="b").count()
    older = page_cursor(ProcessInstance.objects.order_by("-created_at", "-id")[24])
    rare = f"{min(424_242, total // 2):0{ID_DIGITS}d}"  # in one business key
    pages = {
        "manager": [
            "/instances/",
            f"/instances/?older={older}",
            "/instances/?status=failed",
            f"/instances/?process={leave}&status=running",
            "/instances/?show=waiting",
            f"/instances/?q={rare}",
            "/instances/?q=leave",
        ],
        "clerk": [
            "/instances/",
            "/instances/?status=running",
            "/instances/?show=waiting",
            "/instances/?show=started",
            "/instances/?q=expense",
        ],
    }
    for who, urls in pages.items():
        client = Client()
        client.force_login(world[who])
        print(f"/instances/ as bench-{who}, {renders} renders each (server time, in process):")
        for url in urls:
            render(client, url, renders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first")
    parser.add_argument(
        "--processes-migration",
        metavar="NAME",
        help="migrate the processes app to NAME (e.g. 0004 to measure without 0005's indexes)",
    )
    args = parser.parse_args()

    if args.fresh or not database_exists():
        recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.processes_migration:
        call_command("migrate", "processes", args.processes_migration, verbosity=0)
    world = people_and_processes()
    seed(world, args.instances)
    gc.collect()  # the seeding's garbage is not the requests' to collect
    timed_count()
    measure(world, args.renders)


if __name__ == "__main__":
    main()
