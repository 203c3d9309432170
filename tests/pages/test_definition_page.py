"""The definition page: name, description, versions and the diagram of the one chosen;
for those who may start the process and for managers only."""

import json
import re

import pytest
from django.test import Client

from processes.services import definition_publish
from tests.pages.world import EXPENSE_SOURCE

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def embedded_bpmn(html: str) -> str:
    found = re.search(
        r'<script id="diagram-bpmn" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1))


def test_page__versions_and_the_latest_diagram(people, expense):
    changed = json.loads(EXPENSE_SOURCE.read_text()) | {"description": "Second take"}
    definition_publish(source=json.dumps(changed), format="json", user=people["boss"])

    response = logged_in(people["clerk"]).get("/definitions/expense-approval/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Expense approval</h1>" in html
    assert "version 2" in html and "boss" in html
    assert 'href="?version=1"' in html
    assert "Second take" in embedded_bpmn(html)
    assert "{% block rights %}" not in html  # the place kept for who may start it
    assert 'href="/api/v1/process-definitions/' in html

    first = logged_in(people["clerk"]).get("/definitions/expense-approval/?version=1")
    assert "Second take" not in embedded_bpmn(first.content.decode())


def test_page__the_bpmn_is_embedded_as_json_not_markup(people, expense):
    html = logged_in(people["clerk"]).get("/definitions/expense-approval/").content.decode()
    assert "<bpmn:definitions" not in html  # escaped inside the JSON script
    assert embedded_bpmn(html).startswith('<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("query", ["?version=9", "?version=0", "?version=abc"])
def test_page__a_version_that_does_not_exist_is_404(people, expense, query):
    assert (
        logged_in(people["clerk"]).get(f"/definitions/expense-approval/{query}").status_code == 404
    )


def test_page__only_for_those_who_may_start_it_and_managers(people, expense):
    from django.contrib.auth.models import User

    from tests.pages.world import PASSWORD

    outsider = User.objects.create_user("outsider", password=PASSWORD)
    assert logged_in(outsider).get("/definitions/expense-approval/").status_code == 404
    assert logged_in(people["deputy"]).get("/definitions/expense-approval/").status_code == 200
    assert logged_in(people["clerk"]).get("/definitions/nope/").status_code == 404
    assert Client().get("/definitions/expense-approval/").status_code == 302  # log in first


def test_start_list__links_to_the_definition_page(people, expense):
    html = logged_in(people["clerk"]).get("/start/").content.decode()
    assert 'href="/definitions/expense-approval/"' in html


def test_instance_page__draws_its_version_and_links_to_the_definition(people, expense_task):
    html = (
        logged_in(people["clerk"]).get(f"/instances/{expense_task.instance_id}/").content.decode()
    )
    assert "Expense approval" in embedded_bpmn(html)
    state = json.loads(
        re.search(
            r'<script id="diagram-state" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert state["waiting"] == ["Step_manager_approval"]
    assert "Step_check_amount" in state["passed"] and "StartEvent_1" in state["passed"]
    assert len(state["flows"]) == 2  # start -> the check -> the approval
    assert 'href="/definitions/expense-approval/?version=1"' in html
    assert f'href="/tasks/{expense_task.pk}/"' in html  # the step's panel
