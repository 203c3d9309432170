"""Workers tell the database they are alive, so /health and engine_status can see them.

The worker's main process (not its pool children) upserts its row every HEARTBEAT_SECONDS
from a daemon thread, and deletes it on a clean shutdown; a killed worker's row just ages.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections
from django.utils import timezone

from processes.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 15
logger = logging.getLogger(__name__)
_stop = threading.Event()


def heartbeat_beat(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"last_seen": timezone.now()}
    )


def heartbeat_start(*, hostname: str) -> None:
    def loop() -> None:
        while not _stop.is_set():
            try:
                close_old_connections()
                heartbeat_beat(hostname=hostname)
            except Exception:
                logger.warning("worker heartbeat failed", exc_info=True)
            _stop.wait(HEARTBEAT_SECONDS)

    _stop.clear()
    threading.Thread(target=loop, name="flowdesk-heartbeat", daemon=True).start()


def heartbeat_stop(*, hostname: str) -> None:
    _stop.set()
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()
