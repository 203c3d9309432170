"""The Celery app shared by the web process (which sends job ids) and the workers."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("flowdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["processes"], related_name="jobs")
# Celery's Django fixup closes the database connection around every task unless told to
# reuse it; reconnecting costs more than a service step. Connections are kept as Django
# keeps them between requests: CONN_MAX_AGE and its health checks decide (below).
app.conf["CELERY_DB_REUSE_MAX"] = 10_000


@task_prerun.connect
@task_postrun.connect
def _drop_stale_connections(**_kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


@worker_ready.connect
def _start_heartbeat(sender, **_kwargs) -> None:
    from processes.heartbeat import heartbeat_start

    heartbeat_start(hostname=sender.hostname)


@worker_shutdown.connect
def _stop_heartbeat(sender, **_kwargs) -> None:
    from processes.heartbeat import heartbeat_stop

    heartbeat_stop(hostname=sender.hostname)


@app.on_after_configure.connect
def schedule_sweeper(sender: Celery, **_kwargs) -> None:
    from django.conf import settings

    interval = settings.FLOWDESK_ENGINE["SWEEP_INTERVAL"]
    sender.add_periodic_task(
        interval,
        # A sweep stuck behind a backlog is stale by the time a worker gets to it; the next
        # one is on its way.
        sender.signature("flowdesk.sweep", options={"expires": max(interval * 5, 5)}),
        name="sweep",
    )


@app.on_after_configure.connect
def schedule_purge(sender: Celery, **_kwargs) -> None:
    from django.conf import settings

    interval = settings.FLOWDESK_ENGINE["PURGE_INTERVAL"]
    sender.add_periodic_task(
        interval,
        # One purge at a time is enough: a late one is superseded by the next.
        sender.signature("flowdesk.purge_expired", options={"expires": interval}),
        name="purge_expired",
    )
