"""What a locked login is told: the pages' and the admin's lockout page, the API's detail."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.login_budget import login_lock_of
from accounts.selectors import LoginLock

REASONS = {
    "account": "Too many failed logins for this account.",
    "address": "Too many failed logins from your network address.",
    "device": "Too many failed logins for this account from this browser.",
}


def retry_after_seconds(lock: LoginLock) -> int:
    return max(1, math.ceil((lock.until - timezone.now()).total_seconds()))


def lockout_page(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer (429) to a login form sent while locked."""
    lock = login_lock_of(request, credentials)
    context = {
        "lock": lock,
        "reason": REASONS[lock.scope] if lock else REASONS["account"],
        "login_url": request.get_full_path(),
    }
    response = render(request, "registration/login_locked.html", context, status=429)
    if lock:
        response["Retry-After"] = str(retry_after_seconds(lock))
    return response
