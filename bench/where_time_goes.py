"""Where a service step's time goes: CPU per process kind, and a profile of the step path.

Used by bench/engine_throughput.py; prints figures, asserts nothing.
"""

from __future__ import annotations

import cProfile
import pstats
import resource
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class CpuMeter:
    """CPU seconds used between `start` and `stop` by the workers, PostgreSQL and Redis.

    Every process on the machine is sampled: PostgreSQL runs a backend per connection and
    the workers fork children, so a process tree alone would miss most of it.
    """

    def __init__(self, worker_pids: list[int]):
        self.worker_pids = set(worker_pids)
        self.before: dict[int, float] = {}
        self.began = 0.0

    def start(self) -> None:
        self.before = {pid: cpu for pid, (_kind, cpu) in self._sample().items()}
        self.began = time.perf_counter()

    def stop(self) -> tuple[Counter, float]:
        used: Counter = Counter()
        for pid, (kind, cpu) in self._sample().items():
            used[kind] += cpu - self.before.get(pid, 0.0)
        return used, time.perf_counter() - self.began

    def _sample(self) -> dict[int, tuple[str, float]]:
        found = {}
        for proc in psutil.process_iter(["name", "ppid", "cpu_times"]):
            times = proc.info["cpu_times"]
            if times is not None:
                found[proc.pid] = (self._kind(proc), times.user + times.system)
        return found

    def _kind(self, proc: psutil.Process) -> str:
        name = proc.info["name"] or ""
        if proc.pid in self.worker_pids or proc.info["ppid"] in self.worker_pids:
            return "Celery workers"
        if name == "postgres" or name.startswith("postgres:"):
            return "PostgreSQL"
        if name.startswith("redis"):
            return "Redis"
        return "rest of the machine"


def print_cpu(used: Counter, seconds: float, steps: int) -> None:
    total = sum(used.values())
    print(f"  CPU while draining: {total / seconds:4.2f} of {psutil.cpu_count()} cores busy")
    for kind, cpu in used.most_common():
        per_step = cpu / steps * 1000
        print(f"    {kind:20s} {per_step:5.2f} ms CPU per step ({cpu / total:4.0%})")


# What a profiled function's own time is spent on, by where its code lives.
PARTS = (
    ("waiting for PostgreSQL", lambda path, name: "psycopg" in path and name == "wait"),
    ("psycopg (send, adapt)", lambda path, name: "/psycopg/" in path),
    ("Django ORM and models", lambda path, name: "/django/db/" in path),
    ("metrics", lambda path, name: "prometheus" in path),
    ("Flowdesk code", lambda path, name: path.startswith(str(ROOT / "processes"))),
    ("django-fsm, signals", lambda path, name: "django_fsm" in path or "/dispatch/" in path),
)


def profile_steps(prepare: Callable[[], None], run: Callable[[], int]) -> None:
    """`prepare` work, then `run` it (returning how many steps it ran), twice: timed, then
    under cProfile for the shares. cProfile slows Python code more than waiting, so its
    shares overstate the Python parts a little; the timed pass gives the real figures.
    """
    prepare()
    cpu_before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    steps = run()
    if not steps:
        raise SystemExit("no step ran in this process")
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime
    per_step, cpu_per_step = wall / steps * 1000, cpu / steps * 1000
    print(f"  time per step: {per_step:8.2f} ms ({cpu_per_step:.2f} ms of it CPU in this process)")

    prepare()
    profile = cProfile.Profile()
    profile.runcall(run)
    shares: Counter = Counter()
    for (path, _line, name), (_calls, _n, own, _total, _callers) in pstats.Stats(
        profile
    ).stats.items():
        part = next((label for label, test in PARTS if test(path, name)), "rest (stdlib, builtins)")
        shares[part] += own
    total = sum(shares.values())
    print("  profile of that process (share of its time):")
    for part, own in shares.most_common():
        print(f"    {part:24s} {own / total:4.0%}")
