"""Bounding a service step's run time inside the worker process.

A Celery prefork or solo worker runs a task in its process's main thread, where a real-time
interval timer can interrupt the service. Elsewhere (a thread pool) the timer cannot be
armed, and the job's lease expiry is what bounds the step.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StepTimeout(BaseException):
    """A BaseException, so that a service catching Exception cannot swallow its deadline."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise StepTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
