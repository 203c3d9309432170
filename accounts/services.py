"""Writes of the login budget: remembering devices, counting their failures, unlocking.

The failures of accounts and addresses are written by axes' database handler
(accounts.login_budget); these are the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Case, F, Value, When
from django.utils import timezone

from accounts.models import KnownDevice

KNOWN_DEVICES_KEPT = 20  # per account: more browsers than one person uses


def known_device_remember(*, user: Any, key: str | None) -> str:
    """Record that the device holding `key` (a new one when None) logged in as `user`: it is
    known to the account from now on and its failures start over. Returns the key.

    Locks the device's row (update_or_create selects it FOR UPDATE) for the upsert.
    """
    key = key or secrets.token_urlsafe(32)
    KnownDevice.objects.update_or_create(
        user=user,
        key=key,
        defaults={"last_login_at": timezone.now(), "failures": 0, "last_failure_at": None},
    )
    _forget_old_devices(user)
    return key


def _forget_old_devices(user: Any) -> None:
    """Clients that keep no cookie (scripts) make a device at every login: keep an account's
    most recent ones only."""
    stale = (
        KnownDevice.objects.filter(user=user)
        .order_by("-last_login_at", "-pk")
        .values_list("pk", flat=True)[KNOWN_DEVICES_KEPT:]
    )
    KnownDevice.objects.filter(pk__in=list(stale)).delete()


def known_device_failure_count(*, device: KnownDevice) -> None:
    """Count a failed login from a known device; one after a cool-off's quiet starts over,
    as axes counts an account's.

    Takes no lock: one UPDATE statement, so concurrent failures all count.
    """
    now = timezone.now()
    KnownDevice.objects.filter(pk=device.pk).update(
        failures=Case(
            When(last_failure_at__gte=now - settings.AXES_COOLOFF_TIME, then=F("failures") + 1),
            default=Value(1),
        ),
        last_failure_at=now,
    )


def login_unlock(*, users: Iterable[Any]) -> int:
    """Lift the login locks of these accounts: forget their failures (the account budget)
    and those of their known devices. Returns how many failure records were removed.

    Takes no lock: deletes and an UPDATE; unlocking twice is unlocking once.
    """
    users = list(users)
    usernames = [user.get_username() for user in users]
    removed, _ = AccessAttempt.objects.filter(username__in=usernames).delete()
    KnownDevice.objects.filter(user__in=users).update(failures=0, last_failure_at=None)
    return removed
