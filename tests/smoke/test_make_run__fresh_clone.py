"""`make run` in a fresh clone with no environment set: the first five minutes of a user.

The clone reuses this checkout's virtualenv (make's VENV), so the test measures the app
starting, not pip downloading. Then: /health answers 200, clerk logs in over the API,
starts an expense approval, and the worker runs its service steps to completion. Once on
the zero-setup defaults (SQLite, a broker in folders) and once on PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "test-output" / "make-run"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, None


def poll(what: str, probe, *, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def postgres_and_redis() -> dict[str, str]:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS flowdesk_smoke WITH (FORCE)")
        c.execute("CREATE DATABASE flowdesk_smoke")
    redis.Redis.from_url("redis://127.0.0.1:6379/10").flushdb()
    return {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/flowdesk_smoke",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
    }


@pytest.mark.parametrize("backends", ["defaults", "postgres+redis"])
def test_make_run__fresh_clone_serves_and_runs_steps(tmp_path, backends):
    clone = tmp_path / "flowdesk"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "PORT": str(port),
        "VENV": str(ROOT / ".venv"),
    }
    if backends != "defaults":
        env |= postgres_and_redis()
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{backends}.log", "wb")
    make = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        poll("/health to answer 200", lambda: call(base, "GET", "/health")[0] == 200, timeout=240)
        status, body = call(
            base, "POST", "/api/v1/auth/login", {"username": "clerk", "password": "clerk"}
        )
        assert status == 200, body
        token = body["access_token"]
        status, started = call(
            base,
            "POST",
            "/api/v1/process-instances",
            {
                "process_definition_key": "expense-approval",
                "business_key": "EXP-SMOKE",
                "variables": {"amount": 250, "description": "taxi"},
            },
            token,
        )
        assert status == 201, started
        path = f"/api/v1/process-instances/{started['id']}"
        done = poll(
            "the worker to finish the instance",
            lambda: (
                (r := call(base, "GET", path, token=token))[1]
                and r[1]["status"] == "completed"
                and r[1]
            ),
            timeout=60,
        )
        assert "notification" in done["variables"]
        status, history = call(base, "GET", path + "/history?size=100", token=token)
        completed = [e["step_id"] for e in history["results"] if e["type"] == "TASK_COMPLETED"]
        assert completed == ["auto_approve", "notify_requester"]
    finally:
        # honcho starts each process in a session of its own: stop every descendant too, or
        # a worker left behind takes later tests' jobs from its Redis database.
        family = psutil.Process(make.pid).children(recursive=True)
        os.killpg(make.pid, signal.SIGTERM)
        for process in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(family, timeout=20)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        try:
            make.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        log.close()
