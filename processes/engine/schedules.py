"""When a scheduled start trigger is due: cron expressions and fixed intervals. Pure: the
caller gives the times, already in the zone the schedule is read in."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")


def cron_problem(expression: str) -> str | None:
    """What is wrong with a five-field cron expression (names such as MON-FRI or JAN
    allowed), or None. Each field is tried alone first, so the message names the field."""
    parts = expression.split()
    if len(parts) != len(CRON_FIELDS):
        return (
            f"a cron expression has 5 fields ({', '.join(CRON_FIELDS)}), this one has {len(parts)}"
        )
    for index, (part, name) in enumerate(zip(parts, CRON_FIELDS, strict=True)):
        probe = ["*"] * len(CRON_FIELDS)
        probe[index] = part
        if not _valid(" ".join(probe)):
            return f"field {index + 1} ({name}) '{part}' is not valid there"
    if not _valid(expression):
        return f"'{expression}' is not a valid cron expression"
    try:
        cron_next(expression, after=datetime(2000, 1, 1))
    except CroniterBadDateError:
        return f"'{expression}' matches no date (such as 30 February)"
    return None


def _valid(expression: str) -> bool:
    try:
        croniter(expression)
    except (CroniterError, ValueError):
        return False
    return True


def cron_next(expression: str, *, after: datetime) -> datetime:
    """The first time strictly after `after` that `expression` matches, in `after`'s zone."""
    return croniter(expression, after).get_next(datetime)


def every_next(interval_seconds: float, *, slot: datetime, after: datetime) -> datetime:
    """The first time strictly after `after` in the series slot, slot + interval, ...: a
    start keeps its cadence, and slots missed while nothing ran are skipped, not replayed."""
    step = timedelta(seconds=interval_seconds)
    if slot > after:
        return slot
    missed = math.floor((after - slot) / step) + 1
    return slot + missed * step
