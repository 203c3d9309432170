"""What the benchmark scripts share: a database of their own, and percentiles."""

from __future__ import annotations

import psycopg
from psycopg import sql


def recreate_database(name: str) -> None:
    """Drop and create `name` on the local PostgreSQL: each bench starts from nothing."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of `values` (pct from 0 to 100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
