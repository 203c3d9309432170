"""bench/messages.py runs end to end on a few messages and prints every figure (the figures
are read by people, never asserted; this keeps the script from rotting)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RATE = r"in +[0-9.]+ s +[0-9.]+ /s"


def test_messages_bench__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_messages_smoke", "BENCH_REDIS_DB": "13"}
    done = subprocess.run(
        [sys.executable, "bench/messages.py", "--messages", "40"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for what in (
        "instances started (each opens its wait)",
        "messages delivered to waiting steps",
        "messages buffered (nothing waits yet)",
        "instances started, each taking its message",
    ):
        assert re.search(re.escape(what) + r" +40 " + RATE, out), out
    assert re.search(r"delivered to waiting steps .* call p50 [0-9.]+ ms +p95 [0-9.]+ ms", out)
    assert "every message delivered exactly once" in out
