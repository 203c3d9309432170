"""Reads about people: who can be given work; the login budget (whether a login is locked,
until when, which accounts are).

The failures are axes' AccessAttempt rows: one per (username, address, user agent), with
the failures counted since it was created and the time of the last one; a row counts while
its last failure is younger than the cool-off (axes deletes older ones as it goes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import KnownDevice


@dataclass(frozen=True)
class LoginLock:
    """Why logins are refused before their password is checked, and until when.

    `account`: too many failures for the username; `address`: too many from the client's
    address, whatever the accounts; `device`: too many for the account from a device that
    is known to it (the only lock such a device obeys).
    """

    scope: Literal["account", "address", "device"]
    until: datetime


def login_lock_get(
    *, username: str | None, address: str | None, device_key: str | None
) -> LoginLock | None:
    """The lock a login as `username` from `address` with the device cookie `device_key`
    is under, if any (the one lasting longest)."""
    device = known_device_get(username=username, key=device_key)
    if device is not None:
        until = _device_locked_until(device)
        return LoginLock("device", until) if until else None
    locks = []
    if username is not None:
        until = _locked_until(
            AccessAttempt.objects.filter(username=username), settings.AXES_FAILURE_LIMIT
        )
        locks += [LoginLock("account", until)] if until else []
    if address is not None:
        until = _locked_until(
            AccessAttempt.objects.filter(ip_address=address),
            settings.FLOWDESK_LOGIN_ADDRESS_FAILURE_LIMIT,
        )
        locks += [LoginLock("address", until)] if until else []
    return max(locks, key=lambda lock: lock.until, default=None)


def known_device_get(*, username: str | None, key: str | None) -> KnownDevice | None:
    """The device `key` names, if it logged in as `username` within the remembered time."""
    if not username or not key:
        return None
    remembered_since = timezone.now() - timedelta(days=settings.FLOWDESK_KNOWN_DEVICE_DAYS)
    return KnownDevice.objects.filter(
        key=key,
        last_login_at__gte=remembered_since,
        **{f"user__{get_user_model().USERNAME_FIELD}": username},
    ).first()


def users_with_login_failures(users: QuerySet) -> QuerySet:
    """`users` annotated with `login_failures`: their account's failures still counting."""
    user_model = get_user_model()
    failures = (
        _counting(AccessAttempt.objects.filter(username=OuterRef(user_model.USERNAME_FIELD)))
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    return users.annotate(
        login_failures=Coalesce(Subquery(failures, output_field=IntegerField()), 0)
    )


def _counting(attempts: QuerySet) -> QuerySet:
    return attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def _locked_until(attempts: QuerySet, limit: int) -> datetime | None:
    """When enough of these failures have aged out for the rest to be under `limit`, if they
    are not under it already: the newest rows, added up until they reach the limit; the lock
    lasts until the last of those ages out."""
    total = 0
    newest_first = _counting(attempts).order_by("-attempt_time")
    for failures, at in newest_first.values_list("failures_since_start", "attempt_time")[:limit]:
        total += failures
        if total >= limit:
            return at + settings.AXES_COOLOFF_TIME
    return None


def _device_locked_until(device: KnownDevice) -> datetime | None:
    if device.failures < settings.AXES_FAILURE_LIMIT or device.last_failure_at is None:
        return None
    until = device.last_failure_at + settings.AXES_COOLOFF_TIME
    return until if until > timezone.now() else None


def users_assignable() -> QuerySet:
    """Active people, by username; not django-guardian's stand-in for anonymous visitors."""
    anonymous = getattr(settings, "ANONYMOUS_USER_NAME", "AnonymousUser")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(username=anonymous)
        .order_by("username")
    )
