"""bench/purge.py runs end to end (small numbers) and prints every figure.

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


def test_purge_bench__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_purge_smoke", "BENCH_REDIS_DB": "11"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the bench's workers keep their metrics apart
    args = ["--finished", "500", "--paced", "5", "--workers", "1", "--batch", "100"]
    done = subprocess.run(
        [sys.executable, "bench/purge.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "seeded 500 finished instances past their retention" in out
    assert "alone: 5 paced starts, 1 prefork processes" in out
    assert "with the purge: 500 finished instances deleted meanwhile" in out
    for figure in (
        "baseline: PostgreSQL round trip \\(SELECT 1\\)",
        "step p50/p95/max:",
        "latency p50/p95/max:",
        "purge:",
        "batches:",
        "longest batch:",
    ):
        assert re.search(figure + r".*?" + NUMBER, out), f"no figure for {figure!r} in:\n{out}"
    assert re.search(r"left behind:\s+0 seeded instances", out)
    assert out.count(" 0 not") == 2  # no live instance failed, alone or beside the purge
