"""What the benchmark scripts share: a database of their own, this machine's speed, percentiles,
Celery workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def recreate_database(name: str) -> None:
    """Drop and create `name` on the local PostgreSQL: each bench starts from nothing."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of `values` (pct from 0 to 100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def machine_baseline() -> None:
    """This machine's speed right now: shared virtual machines vary by several times."""
    from django.db import connection

    with connection.cursor() as cursor:
        began = time.perf_counter()
        for _ in range(1000):
            cursor.execute("SELECT 1")
        round_trip = (time.perf_counter() - began) / 1000
    print(f"baseline: PostgreSQL round trip (SELECT 1) {round_trip * 1e6:.0f} us")


def start_workers(count: int, pool: str = "prefork") -> list[subprocess.Popen]:
    """`count` prefork children under one worker, or `count` solo workers side by side, each
    in a process group of its own (the bench's environment: its database and Redis db)."""
    layout = [(n, 1) for n in range(count)] if pool == "solo" else [(0, count)]
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
    options = ["--without-mingle", "--without-gossip", "--loglevel=WARNING"]
    return [
        subprocess.Popen(
            [*command, *options, f"--concurrency={size}", f"--hostname=bench{n}@%h"],
            cwd=ROOT,
            env=dict(os.environ),
            start_new_session=True,
        )
        for n, size in layout
    ]
