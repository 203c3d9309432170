"""Who may start a definition: django-guardian's `start_processdefinition`, per user or group.

Managers and admins hold it globally; these services grant and revoke it on one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.permissions import can_manage_definitions, require
from accounts.selectors import users_assignable
from processes.errors import InvalidInput
from processes.models import ProcessDefinition
from processes.storable import text_problem

START = "processes.start_processdefinition"


def definition_starters_grant(
    *,
    definition: ProcessDefinition,
    groups: Iterable[str] = (),
    users: Iterable[str] = (),
    user: Any = None,
) -> None:
    """Let the named groups and users start `definition`; unknown names refuse it all."""
    _change(assign_perm, "grant", definition, groups, users, user)


def definition_starters_revoke(
    *,
    definition: ProcessDefinition,
    groups: Iterable[str] = (),
    users: Iterable[str] = (),
    user: Any = None,
) -> None:
    """Take the right to start `definition` from the named groups and users."""
    _change(remove_perm, "revoke", definition, groups, users, user)


def _change(apply, verb: str, definition, groups, users, user) -> None:
    require(user, can_manage_definitions, f"only managers and admins may {verb} start rights")
    found_groups, found_users = _named(groups, users)
    with transaction.atomic():
        for holder in (*found_groups, *found_users):
            apply(START, holder, definition)


def _named(groups: Iterable[str], users: Iterable[str]) -> tuple[list, list]:
    group_names, usernames = list(dict.fromkeys(groups)), list(dict.fromkeys(users))
    unreadable = [name for name in (*group_names, *usernames) if text_problem(str(name))]
    if unreadable:
        raise InvalidInput("a group or user name may not contain NUL or lone surrogates")
    found_groups = list(Group.objects.filter(name__in=group_names))
    found_users = list(users_assignable().filter(username__in=usernames))
    errors = {}
    missing = set(group_names) - {g.name for g in found_groups}
    if missing:
        errors["groups"] = [f"no group named {name!r}" for name in sorted(missing)]
    missing = set(usernames) - {u.username for u in found_users}
    if missing:
        errors["users"] = [f"no active user named {name!r}" for name in sorted(missing)]
    if errors:
        raise InvalidInput("unknown groups or users: nothing was changed", field_errors=errors)
    return found_groups, found_users
