"""What the admin's pages share: read-only admins for the rows only the engine writes, and
running an action's service on each selected row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.text import capfirst

from processes.errors import FlowdeskError


def act_on_each(
    request: HttpRequest, objects: Iterable[Any], act: Callable[[Any], Any], *, done: str
) -> None:
    """Call `act` (one service call) on each object; report successes and refusals.

    `done` says what happened to the ones that succeeded: "suspended", "reassigned"...
    """
    objects = list(objects)
    refusals = []
    for obj in objects:
        try:
            act(obj)
        except FlowdeskError as error:
            refusals.append(f"{obj}: {error.message}")
    succeeded = len(objects) - len(refusals)
    if succeeded:
        messages.success(request, f"{capfirst(done)}: {succeeded} of {len(objects)}.")
    if refusals:
        messages.warning(request, f"{len(refusals)} refused. " + "; ".join(refusals) + ".")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the engine writes: operators look, and act through the actions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
