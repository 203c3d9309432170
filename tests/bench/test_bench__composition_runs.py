"""bench/composition.py runs end to end (small numbers) and prints every figure.

The figures themselves are not judged here: speed is read from the bench's output by
people, never asserted. That every for-each collected all its items is the bench's own
check: it exits non-zero without.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\s+[0-9]+(\.[0-9]+)?"


def test_composition__prints_every_figure_for_a_small_run():
    env = {
        **os.environ,
        "BENCH_DATABASE": "flowdesk_bench_composition_smoke",
        "BENCH_REDIS_DB": "6",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the bench's workers keep their metrics apart
    args = ["--instances", "20", "--items", "10", "--items-instances", "2", "--chains", "5"]
    done = subprocess.run(
        [sys.executable, "bench/composition.py", *args, "--paced", "2", "--workers", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"baseline: PostgreSQL round trip \(SELECT 1\)" + NUMBER, out), out
    parts = out.split("for-each:")
    assert len(parts) == 2, out
    plain, (for_each, chain) = parts[0], parts[1].split("subprocess chain:")
    assert "plain: 20 instances x 3 no-op service steps, 1 prefork processes" in plain
    assert for_each.startswith(" 2 instances x 1 step over 10 items")
    assert chain.startswith(" 5 instances of level0 -> level1 -> level2")
    for part, figures in (
        (plain, ("instances/s:", "steps/s:")),
        (for_each, ("instances/s:", "steps/s:", "latency p50:", "latency p95:")),
        (chain, ("instances/s:", "steps/s:", "latency p50:", "latency p95:")),
    ):
        for figure in figures:
            assert re.search(figure + NUMBER, part), f"no figure for {figure!r} in:\n{part}"
    assert "(item steps: 20 item jobs run)" in for_each
    assert "collected:     every one of the 4 instances' out has 10 entries" in for_each
    assert "FAILED" not in out
