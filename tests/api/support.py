"""What the API tests share: the approval definition and people with a known password."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

# amount > 1000 goes to a person in `approvers`; else straight to the end.
APPROVAL = {
    "name": "approval",
    "description": "Large amounts need a person's approval",
    "variables": {"amount": "number", "requester": "string"},
    "steps": [
        {
            "id": "check",
            "type": "exclusive_gateway",
            "config": {
                "conditions": [{"expression": "${amount > 1000}", "next": "approve"}],
                "default": "done",
            },
        },
        {
            "id": "approve",
            "name": "Approve the amount",
            "type": "user_task",
            "config": {
                "candidate_groups": ["approvers"],
                "due_date": "2h",
                "form": {
                    "approved": {"type": "boolean", "required": True},
                    "comments": "text",
                },
            },
            "next": ["done"],
        },
        {"id": "done", "type": "end"},
    ],
}

PASSWORD = "s3cret-pass"  # noqa: S105  (the test accounts')


def member(name: str, *groups: str) -> User:
    user = User.objects.create_user(name, password=PASSWORD)
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user
