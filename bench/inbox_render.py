"""Server time to render the inbox for a user with 10,000 open tasks. Prints; asserts nothing.

    .venv/bin/python bench/inbox_render.py [--tasks 10000] [--renders 30]

Half the tasks are assigned to the user (My tasks), half wait in their group's queue. Each
tab is rendered through Django's full request cycle in this process (middleware, session,
queries, templates; no network), and the time and SQL queries per render are printed.

It uses its own database (flowdesk_bench_inbox, recreated).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import recreate_database  # noqa: E402

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only",
    "ALLOWED_HOSTS": "testserver",
    # Static files straight from the app folders (no collectstatic); not what is measured.
    "TESTING": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/flowdesk_bench_inbox",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(BENCH_ENV)


def seed(tasks: int):
    from django.db import connection

    from accounts.roles import MANAGER
    from tests.pages.bulk import expense_tasks_create
    from tests.pages.world import member, publish_expense, role_group

    publish_expense()
    user = member("bench-manager", MANAGER)
    began = time.perf_counter()
    expense_tasks_create(
        user=user, group=role_group(MANAGER), assigned=tasks // 2, queued=tasks - tasks // 2
    )
    print(f"seeded {tasks:,} open tasks in {time.perf_counter() - began:.1f} s")
    # Statistics as autovacuum keeps them: plans for 10,000 rows, not for the empty tables.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user


def render(client, url: str, renders: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates compiled, connection open, plans cached
    timings = []
    for _ in range(renders):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code  # noqa: S101
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        f"  {url:<28} median {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   "
        f"{len(queries)} queries   {len(response.content) / 1024:5.1f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()

    recreate_database("flowdesk_bench_inbox")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    user = seed(args.tasks)
    client = Client()
    client.force_login(user)
    print(f"inbox render, {args.renders} renders each (server time, in process):")
    for url in ("/", "/?tab=queue", "/?tab=queue&sort=priority", "/?tab=queue&q=BULK-09"):
        render(client, url, args.renders)


if __name__ == "__main__":
    main()
