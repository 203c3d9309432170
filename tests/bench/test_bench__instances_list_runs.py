"""bench/instances_list.py runs end to end (a few thousand instances) and prints every figure.

The figures themselves are not judged here: speed is read from the bench's output by
people, never asserted. This keeps the script from rotting between the times it is run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = r"p50 +[0-9.]+ ms +p95 +[0-9.]+ ms +[0-9]+ queries +[0-9]+ rows"


def test_instances_list__prints_every_figure_for_a_small_run():
    env = {**os.environ, "BENCH_DATABASE": "flowdesk_bench_cases_smoke", "BENCH_REDIS_DB": "11"}
    done = subprocess.run(
        [
            sys.executable,
            "bench/instances_list.py",
            "--instances",
            "3000",
            "--renders",
            "2",
            "--fresh",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"seeded 3,000 instances in [0-9]+ s", out), out
    assert re.search(r"exact COUNT\(\*\) of 3,000 instances: p50 [0-9.]+ ms", out), out
    for who in ("manager", "clerk"):
        assert f"/instances/ as bench-{who}" in out
    for url in ("/instances/ ", "/instances/?status=failed", "/instances/?q=", "?show=waiting"):
        assert re.search(re.escape(url) + r".*?" + PAGE, out), f"no figures for {url!r} in:\n{out}"
