"""The cases page shows a person the instances they started or hold a task in; managers all."""

import pytest
from django.contrib.auth.models import User

from processes.instance_lists import instance_ids_involving
from processes.models import ProcessInstance
from processes.selectors import instances_visible_to
from processes.services import instance_start
from tasks.services import task_assign, task_claim, task_complete
from tests.pages.cases import case_keys, case_rows, logged_in
from tests.pages.world import start_expense
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db


def test_cases__needs_a_login(client):
    response = client.get("/instances/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_cases__a_clerk_sees_theirs_and_not_anothers(people, expense):
    start_expense(by=people["clerk"], key="MINE-1")
    start_expense(by=people["clerk2"], key="THEIRS-1")

    response = logged_in(people["clerk"]).get("/instances/")
    assert case_keys(response) == ["MINE-1"]
    assert "<h1>My cases</h1>" in response.content.decode()
    assert case_keys(logged_in(people["clerk2"]).get("/instances/")) == ["THEIRS-1"]


def test_cases__managers_see_every_case(people, expense):
    start_expense(by=people["clerk"], key="A-1")
    start_expense(by=people["clerk2"], key="B-1")

    response = logged_in(people["deputy"]).get("/instances/")
    assert case_keys(response) == ["B-1", "A-1"]  # newest first
    assert "<h1>All cases</h1>" in response.content.decode()


def test_cases__holding_a_task_makes_a_case_visible(people, expense):
    """Named as a candidate, a clerk sees the case; having completed its task, still does."""
    look = {"candidate_users": ["clerk2"], "form": {"approved": {"type": "boolean"}}}
    publish(
        "look-at-it", [{"id": "look", "name": "Look at it", "type": "user_task", "config": look}]
    )
    instance = instance_start(definition_key="look-at-it", business_key="NAMED-1")
    clerk2 = logged_in(people["clerk2"])
    assert case_keys(clerk2.get("/instances/")) == ["NAMED-1"]
    assert case_keys(logged_in(people["clerk"]).get("/instances/")) == []

    task = instance.tasks.get()
    task_claim(task=task, user=people["clerk2"])
    task_complete(task=task, user=people["clerk2"], variables={"approved": True})
    assert case_keys(clerk2.get("/instances/")) == ["NAMED-1"]


def test_cases__the_list_and_the_instance_page_agree_on_who_sees_what(people, expense):
    start_expense(by=people["clerk"], key="C-1")
    start_expense(by=people["clerk2"], key="C-2")
    task = start_expense(by=people["clerk2"], key="C-3")
    task_assign(task=task, assignee=people["clerk"], user=people["boss"])  # another's case
    for user in User.objects.all():
        involved = ProcessInstance.objects.filter(pk__in=instance_ids_involving(user=user))
        assert set(involved) == set(instances_visible_to(user=user)) or user.has_perm(
            "processes.view_processinstance"
        ), user.username
    assert case_keys(logged_in(people["clerk"]).get("/instances/")) == ["C-3", "C-1"]


def test_cases__each_row_says_process_status_step_holder_and_start(people, expense):
    task = start_expense(by=people["clerk"], key="ROW-1")
    [row] = case_rows(logged_in(people["clerk"]).get("/instances/"))
    assert row["Process"] == "Expense approval"
    assert row["Status"] == "Running"
    assert row["Current step"] == "Approve the expense"  # the step's name, not its id
    assert row["Held by"] == "waiting for manager"
    assert row["Started by"] == "clerk"
    assert row["Started"].endswith(" UTC")  # the time zone is shown

    task_claim(task=task, user=people["boss"])
    [row] = case_rows(logged_in(people["clerk"]).get("/instances/"))
    assert row["Held by"] == "boss"


def test_cases__rows_link_to_their_instance_page(people, expense_task):
    html = logged_in(people["clerk"]).get("/instances/").content.decode()
    assert f'href="/instances/{expense_task.instance_id}/"' in html


def test_cases__the_header_links_to_the_page(people, expense):
    html = logged_in(people["clerk"]).get("/").content.decode()
    assert '<a href="/instances/">Cases</a>' in html
    html = logged_in(people["clerk"]).get("/instances/").content.decode()
    assert '<a href="/instances/" aria-current="page">Cases</a>' in html
