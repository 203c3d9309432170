"""People in each role, API clients holding their tokens, and a definition with a user step."""

from __future__ import annotations

import json

import pytest
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from processes.models import ProcessDefinition
from processes.services import definition_publish
from tests.api.support import APPROVAL, member


@pytest.fixture
def people(db):
    """A manager, an admin, and users: bob and carl approve, ann and eve do not."""
    return {
        "maria": member("maria", "manager"),
        "root": member("root", "admin"),
        "ann": member("ann", "user"),
        "bob": member("bob", "user", "approvers"),
        "carl": member("carl", "user", "approvers"),
        "eve": member("eve", "user"),
    }


@pytest.fixture
def api(people):
    """`api("ann")`: a client sending ann's Bearer token."""

    def client_for(name: str) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(people[name]).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return client_for


@pytest.fixture
def approval(people) -> ProcessDefinition:
    """The approval definition; ann and bob (role `user`) may start it, eve may not."""
    version = definition_publish(source=json.dumps(APPROVAL), format="json")
    for name in ("ann", "bob"):
        assign_perm("processes.start_processdefinition", people[name], version.definition)
    return version.definition
