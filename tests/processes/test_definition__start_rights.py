"""Who may start a process: granted per group or user on the page, the admin's publish form
and the API; a refused start says why."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.permissions import can_start
from processes.errors import InvalidInput, NotAllowed
from processes.models import ProcessDefinition
from processes.services import definition_publish, instance_start
from processes.services.start_rights import definition_starters_grant
from tests.pages import world

pytestmark = pytest.mark.django_db
people = world.people  # the fixture
SOURCE = json.dumps({"name": "leave", "steps": [{"id": "u", "type": "user_task"}]})


def login(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def test_publish__with_starter_groups_grants_them_all_or_nothing(people):
    Group.objects.create(name="hr")
    with pytest.raises(InvalidInput) as unknown:
        definition_publish(source=SOURCE, format="json", starter_groups=["hr", "nobody"])
    assert unknown.value.field_errors == {"groups": ["no group named 'nobody'"]}
    assert not ProcessDefinition.objects.filter(key="leave").exists()
    version = definition_publish(source=SOURCE, format="json", starter_groups=["hr"])
    people["clerk"].groups.add(Group.objects.get(name="hr"))
    assert can_start(people["clerk"], version.definition)


def test_start__refused_with_the_reason_then_granted_on_the_page(people):
    definition_publish(source=SOURCE, format="json")
    with pytest.raises(NotAllowed, match="ask a manager"):
        instance_start(definition_key="leave", user=people["clerk"])
    page = login("boss").post("/definitions/leave/starters/", {"action": "grant", "user": "clerk"})
    assert page.status_code == 302
    assert "clerk" in login("boss").get("/definitions/leave/starters/").content.decode()
    instance_start(definition_key="leave", user=people["clerk"])
    login("boss").post("/definitions/leave/starters/", {"action": "revoke", "user": "clerk"})
    with pytest.raises(NotAllowed):
        instance_start(definition_key="leave", user=people["clerk"])


def test_page__managers_only_and_unknown_names_are_named(people):
    definition_publish(source=SOURCE, format="json")
    assert login("clerk").get("/definitions/leave/starters/").status_code == 404
    refused = login("boss").post("/definitions/leave/starters/", {"action": "grant", "group": "x"})
    assert refused.status_code == 400 and "No group named" in refused.content.decode()
    with pytest.raises(NotAllowed):
        definition_starters_grant(
            definition=ProcessDefinition.objects.get(key="leave"),
            users=["clerk"],
            user=people["clerk"],
        )


def test_api__publish_takes_starter_groups(people):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    Group.objects.create(name="hr")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(people['boss']).access_token}"
    )
    url = "/api/v1/process-definitions?starter_groups=hr"
    answer = client.post(url, SOURCE, content_type="application/json")
    assert answer.status_code == 201
    hr = Group.objects.get(name="hr")
    assert hr.groupobjectpermission_set.filter(permission__codename="start_processdefinition")


def test_admin__the_definition_links_to_who_may_start_it(people):
    version = definition_publish(source=SOURCE, format="json")
    boss = people["boss"]
    boss.is_superuser = True
    boss.save()
    html = (
        login("boss")
        .get(f"/admin/processes/processdefinition/{version.definition_id}/change/")
        .content.decode()
    )
    assert 'href="/definitions/leave/starters/"' in html
