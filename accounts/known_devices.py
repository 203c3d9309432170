"""The known-device cookie: set by every successful login, read by every login attempt.

It carries a random key, signed so that it cannot be forged, HttpOnly so that page scripts
cannot read it. One key per browser; the rows (accounts.models.KnownDevice) say which
accounts logged in from it. API clients that keep cookies get it too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from accounts.services import known_device_remember

COOKIE = "flowdesk_device"
SALT = "accounts.known_devices"


def known_device_key(request: HttpRequest) -> str | None:
    """The key the request's device cookie carries, if its signature and age are good."""
    return request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=_max_age())


@receiver(user_logged_in, dispatch_uid="accounts.known_devices.remember")
def _remember(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    key = known_device_remember(user=user, key=known_device_key(request))
    # DRF's Request wraps Django's, which is the one the middleware sees.
    getattr(request, "_request", request).known_device_key = key


class KnownDeviceMiddleware:
    """Sets (and renews) the cookie on the answer to a successful login."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        key = getattr(request, "known_device_key", None)
        if key:
            response.set_signed_cookie(
                COOKIE,
                key,
                salt=SALT,
                max_age=int(_max_age().total_seconds()),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _max_age() -> timedelta:
    return timedelta(days=settings.FLOWDESK_KNOWN_DEVICE_DAYS)
