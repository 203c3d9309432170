"""bench/timers.py runs end to end (a few hundred timers) and prints every figure.

The figures themselves are not judged here: speed is read from the bench's output by
people, never asserted. Exactly-once is the bench's own check: it exits non-zero without.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\s+[0-9]+(\.[0-9]+)?"


def test_timers__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_timers_smoke", "BENCH_REDIS_DB": "9"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the bench's workers keep their metrics apart
    done = subprocess.run(
        [sys.executable, "bench/timers.py", "--timers", "200", "--workers", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "engine: beat (sweep every" in out
    assert "fired: 200 timers due at the same second" in out
    for figure in (
        "baseline: PostgreSQL round trip \\(SELECT 1\\)",
        "starting:",
        "all fired after:",
        "lag p50:",
        "lag p95:",
        "lag max:",
        "fired/s:",
    ):
        assert re.search(figure + r".*?" + NUMBER, out), f"no figure for {figure!r} in:\n{out}"
    assert "exactly once: yes (200 timers with a TIMER_FIRED" in out
