"""What a user may do: the checks the services make (with `require`) and views use to decide
what to offer.

Objects a user may not see are answered as not found by the visibility selectors in
`processes.selectors` and `tasks.selectors`; these predicates decide about acting on what
the user can see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from processes.errors import NotAllowed
from processes.models import ProcessDefinition


def require(user: Any, allowed: Callable[[Any], bool], reason: str) -> None:
    """The services' check of the caller: NotAllowed(`reason`) unless `allowed(user)`.

    `user=None` is Flowdesk itself (the engine, management commands), which may do anything.
    """
    if user is not None and not allowed(user):
        raise NotAllowed(reason)


def can_publish(user: Any) -> bool:
    return user.has_perm("processes.add_processdefinition")


def can_manage_definitions(user: Any) -> bool:
    """Grant and revoke who may start a definition."""
    return user.has_perm("processes.change_processdefinition")


def can_see_all_instances(user: Any) -> bool:
    return user.has_perm("processes.view_processinstance")


def can_see_errors_in_full(user: Any) -> bool:
    """Tracebacks, with their server paths and code: for those who run Flowdesk."""
    return can_see_all_instances(user)


def can_control_instances(user: Any) -> bool:
    """Suspend, resume, terminate and retry any instance."""
    return user.has_perm("processes.change_processinstance")


def can_see_all_tasks(user: Any) -> bool:
    return user.has_perm("tasks.view_task")


def can_assign_tasks(user: Any) -> bool:
    return user.has_perm("tasks.change_task")


def can_start(user: Any, definition: ProcessDefinition) -> bool:
    """Globally (managers, admins) or for this definition (guardian, per user or group)."""
    return user.has_perm("processes.start_processdefinition") or user.has_perm(
        "processes.start_processdefinition", definition
    )
