"""bench/engine_throughput.py runs end to end (small numbers) and prints every figure.

The figures themselves are not judged here: speed is read from the bench's output by
people, never asserted. This keeps the script from rotting between the times it is run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\s+[0-9]+(\.[0-9]+)?"


def test_engine_throughput__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_smoke", "BENCH_REDIS_DB": "12"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the bench's workers keep their metrics apart
    args = ["--instances", "30", "--tasks", "5", "--paced", "5", "--workers", "1"]
    done = subprocess.run(
        [sys.executable, "bench/engine_throughput.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "service flow: 30 instances x 3 no-op steps, 1 prefork processes" in out
    for figure in (
        "baseline: PostgreSQL round trip \\(SELECT 1\\)",
        "instances/s:",
        "steps/s:",
        "latency p50:",
        "latency p95:",
        "SQL per start:",
        "SQL per step:",
        "time per step:",
        "Celery workers",
        "PostgreSQL",
        "waiting for PostgreSQL",
        "Django ORM and models",
        "tasks/s:",
    ):
        assert re.search(figure + r".*?" + NUMBER, out), f"no figure for {figure!r} in:\n{out}"
    assert "human flow: 5 tasks completed through task_complete" in out
