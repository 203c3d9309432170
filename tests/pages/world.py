"""People in their roles and the expense-approval example, for the page, admin and e2e tests.

Role groups are re-created here rather than trusted from the migration: a transactional
test (the worker tests) flushes every table, the migration's groups included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from guardian.shortcuts import assign_perm

from accounts.roles import MANAGER, MANAGER_PERMISSIONS, USER
from processes.models import ProcessDefinition
from processes.services import definition_publish, instance_start
from tasks.models import Task

PASSWORD = "a-test-password-1"  # noqa: S105  (test users only)
EXPENSE_SOURCE = Path(__file__).resolve().parents[2] / "examples" / "expense-approval.json"


def role_group(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=role)
    if role == MANAGER:
        pairs = [p.split(".") for p in MANAGER_PERMISSIONS]
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in pairs
            ]
        )
    return group


def member(username: str, role: str, *, staff: bool = False) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=staff)
    user.groups.add(role_group(role))
    return user


def publish_expense() -> ProcessDefinition:
    """The example, startable by everyone in the user role."""
    version = definition_publish(source=EXPENSE_SOURCE.read_text(), format="json")
    assign_perm("processes.start_processdefinition", role_group(USER), version.definition)
    return version.definition


def start_expense(*, by: User, amount: float = 5000, key: str = "EXP-1") -> Task:
    """An expense over 1,000: its approval task waits in the manager group's queue."""
    instance = instance_start(
        definition_key="expense-approval",
        variables={"amount": amount, "description": "Conference trip"},
        business_key=key,
        user=by,
    )
    return Task.objects.get(instance=instance)


@pytest.fixture
def people(db) -> dict[str, User]:
    return {
        "clerk": member("clerk", USER),
        "clerk2": member("clerk2", USER),
        "boss": member("boss", MANAGER, staff=True),
        "deputy": member("deputy", MANAGER),
    }


@pytest.fixture
def expense(people) -> ProcessDefinition:
    return publish_expense()


@pytest.fixture
def expense_task(people, expense) -> Task:
    return start_expense(by=people["clerk"])
