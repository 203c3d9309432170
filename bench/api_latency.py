"""Task-list latency of the REST API on 100,000 tasks. Prints figures; asserts nothing.

    .venv/bin/python bench/api_latency.py [--users 1000] [--tasks 100000] [--requests 400]

Seeds (bulk_create, not the services) `--tasks` tasks across `--users` users in the `user`
role: each task has one candidate user and one candidate group of ten users; about a third
are claimed, a tenth completed. Then, for users picked at random, times
`GET /api/v1/tasks?assignee=current_user` and `?candidate_user=current_user` with a Bearer
token through Django's test client (in process: middleware, JWT, DRF, SQL and JSON are
measured; an HTTP server and the network are not), and counts the SQL queries per request
at page sizes 10 and 100.

It uses its own database (flowdesk_bench_api, recreated).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import percentile, recreate_database  # noqa: E402

DATABASE = "flowdesk_bench_api"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only-secret-key-of-at-least-32-bytes",
        # Static files straight from the app folders (no collectstatic); not what is measured.
        "TESTING": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    }
)

UNUSABLE = "!"  # Django's mark of an unusable password
TEAM_SIZE = 10
TASKS_PER_INSTANCE = 10
BATCH = 5000
QUERIES = {
    "assignee=current_user": {"assignee": "current_user"},
    "candidate_user=current_user": {"candidate_user": "current_user"},
}


def seed(users: int, tasks: int) -> list:
    """Users, teams, one definition; instances, tokens, tasks and candidates in bulk."""
    import json

    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from processes.models import ProcessInstance, Token
    from processes.services import definition_publish
    from processes.statuses import InstanceStatus, TaskState, TokenHolder, TokenStatus
    from tasks.models import Task

    rng = random.Random(7)
    people = User.objects.bulk_create(
        User(username=f"user{n:04d}", password=UNUSABLE) for n in range(users)
    )
    role = Group.objects.get(name="user")
    teams = Group.objects.bulk_create(
        Group(name=f"team-{n:03d}") for n in range(users // TEAM_SIZE)
    )
    memberships = User.groups.through
    memberships.objects.bulk_create(
        [memberships(user_id=u.pk, group_id=role.pk) for u in people]
        + [
            memberships(user_id=u.pk, group_id=teams[n // TEAM_SIZE].pk)
            for n, u in enumerate(people)
        ]
    )
    definition = {
        "name": "bench-approval",
        "steps": [
            {"id": "approve", "type": "user_task", "config": {"form": {"approved": "boolean"}}}
        ],
    }
    version = definition_publish(source=json.dumps(definition), format="json")

    now = timezone.now()
    for start in range(0, tasks, BATCH):
        count = min(BATCH, tasks - start)
        instances = ProcessInstance.objects.bulk_create(
            ProcessInstance(
                definition_id=version.definition_id,
                definition_version=version,
                status=InstanceStatus.RUNNING,
                business_key=f"B-{start + n}",
                variables={"amount": rng.randint(1, 10_000)},
                started_by=rng.choice(people),
                created_at=now - timedelta(minutes=start + n),
            )
            for n in range(0, count, TASKS_PER_INSTANCE)
        )
        tokens = Token.objects.bulk_create(
            Token(
                instance=instances[n // TASKS_PER_INSTANCE],
                node_id="approve",
                status=TokenStatus.ACTIVE,
                holder=TokenHolder.TASK,
            )
            for n in range(count)
        )
        rows = []
        for n, token in enumerate(tokens):
            roll = rng.random()
            state = (
                TaskState.COMPLETED
                if roll < 0.1
                else TaskState.ASSIGNED
                if roll < 0.4
                else TaskState.OPEN
            )
            holder = rng.choice(people) if state != TaskState.OPEN else None
            rows.append(
                Task(
                    instance_id=token.instance_id,
                    token=token,
                    step_id="approve",
                    name="Approve",
                    state=state,
                    assignee=holder,
                    completed_by=holder if state == TaskState.COMPLETED else None,
                    form={"approved": {"type": "boolean", "required": True}},
                    priority=rng.randint(0, 5),
                    due_date=now + timedelta(hours=rng.randint(1, 500)) if roll > 0.3 else None,
                    created_at=now - timedelta(seconds=start + n),
                )
            )
        created = Task.objects.bulk_create(rows)
        Task.candidate_users.through.objects.bulk_create(
            Task.candidate_users.through(task_id=t.pk, user_id=rng.choice(people).pk)
            for t in created
        )
        Task.candidate_groups.through.objects.bulk_create(
            Task.candidate_groups.through(task_id=t.pk, group_id=rng.choice(teams).pk)
            for t in created
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    return people


def client_for(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def latency(people: list, requests: int) -> None:
    rng = random.Random(11)
    clients = [client_for(user) for user in rng.sample(people, min(100, len(people)))]
    for name, query in QUERIES.items():
        for client in clients[:10]:  # warm the connection and Django's caches
            client.get("/api/v1/tasks", query)
        timings, rows = [], []
        for _ in range(requests):
            client = rng.choice(clients)
            began = time.perf_counter()
            answer = client.get("/api/v1/tasks", query)
            timings.append(time.perf_counter() - began)
            if answer.status_code != 200:
                raise SystemExit(f"{answer.status_code}: {answer.content[:300]}")
            rows.append(answer.json()["count"])
        print(f"GET /api/v1/tasks?{name}  ({requests} requests, {len(clients)} users)")
        print(f"  p50:           {percentile(timings, 50) * 1000:8.1f} ms")
        print(f"  p95:           {percentile(timings, 95) * 1000:8.1f} ms")
        print(f"  matching rows: {sum(rows) / len(rows):8.1f} per user on average")


def queries_per_request(people: list) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(people[0])
    for name, query in QUERIES.items():
        counts = []
        for size in (10, 100):
            with CaptureQueriesContext(connection) as captured:
                answer = client.get("/api/v1/tasks", {**query, "size": size})
            counts.append(f"{len(captured)} at size={size} ({len(answer.json()['results'])} rows)")
        print(f"SQL queries, ?{name}: {', '.join(counts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    people = seed(args.users, args.tasks)
    seconds = time.perf_counter() - began
    print(f"seeded {args.tasks} tasks across {args.users} users in {seconds:.0f} s")
    gc.collect()  # the seeding's garbage is not the requests' to collect
    latency(people, args.requests)
    queries_per_request(people)


if __name__ == "__main__":
    main()
