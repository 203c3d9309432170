"""GET /health: is this deployment able to run processes right now?

Three checks: the database answers, the broker accepts a connection, and a worker has
sent its heartbeat within the last minute. 200 when all pass, 503 naming what failed.

With an event bus configured (FLOWDESK_EVENT_BUS_URL), a fourth, `bus`: RabbitMQ accepts a
connection. The bus being down does not stop processes (their events wait in the outbox),
so it makes the answer `degraded` (still 200), saying how many events wait.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from processes.models import WorkerHeartbeat

WORKER_SILENCE = timedelta(minutes=1)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_broker() -> str:
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    return "ok"


def check_workers() -> str:
    since = timezone.now() - WORKER_SILENCE
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=since).count()
    if not alive:
        raise RuntimeError("no worker has answered within the last minute")
    return f"ok ({alive} alive)"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "workers": check_workers,
}


def check_bus() -> str:
    from processes.event_bus import bus_check
    from processes.services.outbox import outbox_pending

    waiting = outbox_pending()
    try:
        bus_check()
    except Exception as exc:  # noqa: BLE001 - the bus is down: said, not raised
        return f"degraded: {exc} ({waiting} event(s) wait in the outbox)"
    return f"ok ({waiting} event(s) wait in the outbox)"


@require_GET
def health(request):
    from django.conf import settings

    results, failing = {}, []
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a check is its answer
            results[name] = f"failing: {exc}"
            failing.append(name)
    degraded = []
    if settings.FLOWDESK_EVENT_BUS_URL and "database" not in failing:
        results["bus"] = check_bus()
        if results["bus"].startswith("degraded"):
            degraded.append("bus")
    status = "failing" if failing else "degraded" if degraded else "ok"
    body = {"status": status, "checks": results}
    if failing:
        body["failing"] = failing
    if degraded:
        body["degraded"] = degraded
    return JsonResponse(body, status=503 if failing else 200)
