"""Locked logins in the admin: users show their failed logins and can be unlocked; the
failure records themselves (axes' AccessAttempt) are listed too, and deleting some lifts
the locks they make (an address's as well as an account's)."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.selectors import users_with_login_failures
from accounts.services import login_unlock

User = get_user_model()


class LoginLockedFilter(admin.SimpleListFilter):
    title = "login locked"
    parameter_name = "login_locked"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(login_failures__gte=settings.AXES_FAILURE_LIMIT)
        if self.value() == "no":
            return queryset.filter(login_failures__lt=settings.AXES_FAILURE_LIMIT)
        return queryset


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    list_display = (*UserAdmin.list_display, "failed_logins")
    list_filter = (*UserAdmin.list_filter, LoginLockedFilter)
    actions = ["unlock_login"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return users_with_login_failures(super().get_queryset(request))

    @admin.display(description="failed logins", ordering="login_failures")
    def failed_logins(self, user) -> str:
        if user.login_failures >= settings.AXES_FAILURE_LIMIT:
            return f"{user.login_failures}: locked"
        return str(user.login_failures or "")

    @admin.action(description="Unlock login", permissions=["change"])
    def unlock_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        users = list(queryset)
        login_unlock(users=users)
        self.message_user(request, f"Unlocked the login of {len(users)} account(s).")


@admin.register(AccessAttempt)
class LoginFailureAdmin(AccessAttemptAdmin):
    # axes' own columns, less its per-row "status": a lock adds up every row of an account
    # (or an address), which one row does not show; the users list does.
    list_display = [
        "attempt_time",
        "username",
        "ip_address",
        "user_agent",
        "path_info",
        "failures_since_start",
    ]
    list_filter = ["attempt_time", "path_info"]
