"""Starting a process: the definitions a user may start and a form from their variables."""

import re

import pytest
from django.test import Client

from processes.models import ProcessInstance
from tests.support.definitions import publish, service_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(people) -> Client:
    client = Client()
    client.force_login(people["clerk"])
    return client


def test_list__only_the_definitions_the_user_may_start(clerk, expense):
    publish("secret-process", [service_step("a", "test.noop")])
    html = clerk.get("/start/").content.decode()
    assert 'href="/start/expense-approval/"' in html
    assert "secret-process" not in html
    assert clerk.get("/start/secret-process/").status_code == 404  # not even its name
    assert clerk.get("/start/no-such-process/").status_code == 404


def test_start__a_process_you_work_on_but_may_no_longer_start_says_why(clerk, people, expense):
    from guardian.shortcuts import remove_perm

    from tests.pages.world import role_group, start_expense

    start_expense(by=people["clerk"])
    remove_perm("processes.start_processdefinition", role_group("user"), expense)
    refused = clerk.get("/start/expense-approval/")
    assert refused.status_code == 403 and "ask a manager" in refused.content.decode()


def test_list__nothing_to_start_says_so(clerk):
    assert "There is no process you may start" in clerk.get("/start/").content.decode()


def test_form__a_field_per_declared_variable_and_a_business_key(clerk, expense):
    html = clerk.get("/start/expense-approval/").content.decode()
    # The example declares a required money amount in EUR and labels its variables.
    assert re.search(r'<label for="id_var-amount" class="required">Amount \(EUR\)</label>', html)
    assert re.search(r'<input type="text" name="var-amount" [^>]*inputmode="decimal"', html)
    assert re.search(r'<label for="id_var-description" class="required">What it was for</', html)
    assert re.search(r'<label for="id_business_key">Business key</label>', html)


def test_start__creates_the_instance_and_shows_it(clerk, people, expense):
    response = clerk.post(
        "/start/expense-approval/",
        {"var-amount": "5000", "var-description": "Train", "business_key": "EXP-9"},
        follow=True,
    )
    instance = ProcessInstance.objects.get()
    assert response.redirect_chain == [(f"/instances/{instance.pk}/", 302)]
    assert "Started “Expense approval”." in response.content.decode()
    assert instance.variables == {"amount": 5000, "description": "Train"}
    assert (instance.business_key, instance.started_by) == ("EXP-9", people["clerk"])


def test_start__invalid_input_shows_the_errors_and_keeps_the_values(clerk, expense):
    response = clerk.post(
        "/start/expense-approval/",
        {"var-amount": "lots", "var-description": "Train", "business_key": "K" * 201},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_var-amount_error"><li>Enter a number', html)
    assert re.search(r'id="id_business_key_error"><li>Ensure this value has at most 200', html)
    assert 'value="lots"' in html and 'value="Train"' in html
    assert not ProcessInstance.objects.exists()
