"""Services the tests run on real workers (loaded through SERVICE_MODULES in test settings)."""

from __future__ import annotations

import time

from processes.registry import ServiceContext, service


class FlakyError(Exception):
    pass


@service("test.noop")
def noop(ctx: ServiceContext) -> None:
    return None


@service("test.echo")
def echo(ctx: ServiceContext) -> dict:
    return dict(ctx.input)


@service("test.flaky")
def flaky(ctx: ServiceContext) -> dict:
    """Fails until attempt `succeed_on` (default 3)."""
    if ctx.attempt < ctx.input.get("succeed_on", 3):
        raise FlakyError(f"attempt {ctx.attempt} failed on purpose")
    return {"flaky_attempts": ctx.attempt}


@service("test.raise")
def raise_named(ctx: ServiceContext) -> None:
    """Raises an exception whose class is named `error` (the name catch rules match)."""
    error_class = type(ctx.input.get("error", "BoomError"), (Exception,), {})
    raise error_class(ctx.input.get("message", "it went wrong"))


@service("test.slow")
def slow(ctx: ServiceContext) -> dict:
    time.sleep(float(ctx.input.get("seconds", 1)))
    return {f"{ctx.step_id}_done": True, f"{ctx.step_id}_attempt": ctx.attempt}


@service("test.mark")
def mark(ctx: ServiceContext) -> dict:
    """Records that its step ran (joins check there was one continuation)."""
    return {f"ran_{ctx.step_id}": True}


@service("test.bad_result")
def bad_result(ctx: ServiceContext) -> dict:
    """Returns what the variables cannot hold: a datetime, NaN, a NUL character, a lone
    surrogate, or (`big`) 200 KB under a key of its step's own."""
    import datetime

    kind = ctx.input.get("kind")
    if kind == "big":
        return {f"big_{ctx.step_id}": "x" * 200_000}
    bad = {"nan": float("nan"), "nul": "a\x00b", "surrogate": "\ud800"}
    return {"value": bad.get(kind, datetime.datetime.now())}


@service("test.cut_db")
def cut_db(ctx: ServiceContext) -> dict:
    """Ends this process's own PostgreSQL session from another one, as a restart of the
    server would while the step runs."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    db = connection.settings_dict
    dsn = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    return {"cut": True}


@service("test.slow_echo")
def slow_echo(ctx: ServiceContext) -> dict:
    """Sleeps `seconds` (default 1), then returns its input without `seconds`."""
    time.sleep(float(ctx.input.get("seconds", 1)))
    return {key: value for key, value in ctx.input.items() if key != "seconds"}


# Counts in Redis how many calls run at once: `<key>:active` now, `<key>:max` the most seen,
# `<key>:calls` how many started. Redis, not the database, so that the count does not
# depend on the engine it checks.
_MAX_SEEN = """
local now = tonumber(ARGV[1])
if now > tonumber(redis.call('get', KEYS[1]) or '0') then redis.call('set', KEYS[1], now) end
return now
"""


def concurrency_counter():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@service("test.concurrency")
def concurrency(ctx: ServiceContext) -> dict:
    """Counts itself in flight for `seconds` (default 0.5) under the Redis `key`; returns
    `{"done": n}` with its input `n`."""
    key = ctx.input.get("key", "concurrency")
    counter = concurrency_counter()
    now = counter.incr(f"{key}:active")
    try:
        counter.incr(f"{key}:calls")
        counter.eval(_MAX_SEEN, 1, f"{key}:max", now)
        time.sleep(float(ctx.input.get("seconds", 0.5)))
    finally:
        counter.decr(f"{key}:active")
    return {"done": ctx.input.get("n")}


# Step types (`processes.registry.step_type`) the tests publish and run.
from processes.registry import StepError, step_type  # noqa: E402

EMAIL_SCHEMA = {
    "type": "object",
    "required": ["to", "subject"],
    "additionalProperties": False,
    "properties": {
        "to": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "subject": {"type": "string", "minLength": 1},
        "priority": {"enum": ["low", "normal", "high"]},
        "fail_times": {"type": "integer", "minimum": 0},
    },
}


@step_type("custom_email", config_schema=EMAIL_SCHEMA)
def custom_email(ctx: ServiceContext, config: dict) -> dict:
    """A custom step type: 'sends' an email; its first `fail_times` attempts bounce."""
    if ctx.attempt <= config.get("fail_times", 0):
        raise StepError("EmailBounced", f"attempt {ctx.attempt} bounced on purpose")
    return {
        f"{ctx.step_id}_sent": {"to": config["to"], "subject": config["subject"]},
        f"{ctx.step_id}_attempt": ctx.attempt,
    }
