"""bench/event_bus.py runs end to end on a few instances and events and prints every figure
(the figures are read by people, never asserted; this keeps the script from rotting)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r" +[+-]?[0-9]+\.[0-9]+"


def test_event_bus_bench__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_bus_smoke", "BENCH_REDIS_DB": "11"}
    env.pop("FLOWDESK_EVENT_BUS_URL", None)
    done = subprocess.run(
        [sys.executable, "bench/event_bus.py", "--instances", "10", "--events", "200"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "step path: 10 instances x 3 no-op steps" in out
    for figure in ("bus off:", "bus on:"):
        assert re.search(figure + NUMBER + " SQL per step" + NUMBER + " ms per step", out), out
    assert re.search(r"cost per step:" + NUMBER + " SQL" + NUMBER + " ms", out), out
    assert re.search(r"relay: 280 events from the outbox to RabbitMQ", out), out
    assert re.search(r"events/s:" + NUMBER, out), out
    assert "every event published" in out
