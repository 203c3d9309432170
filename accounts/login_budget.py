"""The login budget as django-axes sees it (settings.AXES_HANDLER, AXES_CLIENT_IP_CALLABLE).

Every login, the API's, the pages' and the admin's, goes through
`authenticate(request=...)`: axes' backend asks `is_locked` before any password is
checked, and axes' database handler records each failure as an AccessAttempt row. This
handler decides what a lock is (accounts.selectors.login_lock_get): the account's budget,
the address's, or, for a device known to the account, that device's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from accounts.known_devices import known_device_key
from accounts.selectors import LoginLock, known_device_get, login_lock_get
from accounts.services import known_device_failure_count


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry that our own
    NUM_PROXIES proxies vouch for; None when that is not an IP address."""
    address = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if settings.NUM_PROXIES and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(settings.NUM_PROXIES, len(hops))]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username a login names, cut to the 255 characters axes
    stores (Django's login form does not enforce its own limit; no account's is that long)."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(get_user_model().USERNAME_FIELD) if isinstance(source, Mapping) else None
    return username[:255] if isinstance(username, str) else None


def login_lock_of(request: HttpRequest, credentials: dict[str, Any] | None) -> LoginLock | None:
    """The lock the login this request attempts is under, if any."""
    return login_lock_get(
        username=login_username(request, credentials),
        address=client_address(request),
        device_key=known_device_key(request),
    )


class LoginBudgetHandler(AxesDatabaseHandler):
    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return login_lock_of(request, credentials) is not None

    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        # axes' backend refused it unchecked: a lockout is not extended by knocking on it.
        refused = getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or refused:
            return
        device = known_device_get(
            username=login_username(request, credentials), key=known_device_key(request)
        )
        if device is not None:
            known_device_failure_count(device=device)
        # The failure that uses up a budget is answered with the lockout already, whichever
        # budget it was (axes only knows the account's).
        request.axes_locked_out = self.is_locked(request, credentials)
        request.axes_credentials = credentials
