"""An administrator sees locked logins and lifts them: in the admin or with axes' commands."""

import io
import re

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import KnownDevice
from tests.accounts.logins import api_login, fail_logins, log_out, page_login

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/user/"


@pytest.fixture
def admin_client(people) -> Client:
    client = Client()
    client.force_login(people["root"])
    return client


def listed_users(answer) -> set[str]:
    page = answer.content.decode()
    return set(re.findall(r'<th class="field-username"><a [^>]*>([^<]+)</a>', page))


def test_users_list__shows_failed_logins_and_filters_the_locked(people, admin_client, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    fail_logins("bob", 2)

    page = admin_client.get(USERS)
    assert page.status_code == 200
    assert f"{settings.AXES_FAILURE_LIMIT}: locked" in page.content.decode()
    assert listed_users(admin_client.get(USERS, {"login_locked": "yes"})) == {"ann"}
    not_locked = listed_users(admin_client.get(USERS, {"login_locked": "no"}))
    assert {"bob", "root"} <= not_locked
    assert "ann" not in not_locked


def test_unlock_login__the_admin_action_restores_login_everywhere(people, admin_client, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page_login(browser, "ann", "wrong-guess")  # locks ann's device and her account
    assert page_login(browser, "ann").status_code == 429
    assert api_login(APIClient(), "ann").status_code == 429

    answer = admin_client.post(
        USERS,
        {"action": "unlock_login", "_selected_action": [people["ann"].pk]},
        follow=True,
    )
    assert "Unlocked the login of 1 account(s)." in answer.content.decode()
    assert not AccessAttempt.objects.filter(username="ann").exists()
    assert KnownDevice.objects.get(user=people["ann"]).failures == 0
    assert api_login(APIClient(), "ann").status_code == 200
    assert page_login(browser, "ann").status_code == 302


def test_unlock_login__needs_the_permission_to_change_users(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    staff = Client()
    staff.force_login(people["bob"])  # staff, without permissions
    staff.post(USERS, {"action": "unlock_login", "_selected_action": [people["ann"].pk]})
    assert api_login(APIClient(), "ann").status_code == 429


def test_failure_records__listed_and_deleting_them_unlocks(people, admin_client, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    records = "/admin/axes/accessattempt/"
    page = admin_client.get(records)
    assert page.status_code == 200
    assert "/api/v1/auth/login" in page.content.decode()
    selected = list(AccessAttempt.objects.values_list("pk", flat=True))
    admin_client.post(
        records, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )
    assert api_login(APIClient(), "ann").status_code == 200


def test_axes_reset__the_commands_unlock_one_account_or_all(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    fail_logins("bob", settings.AXES_FAILURE_LIMIT)
    call_command("axes_reset_username", "ann", stdout=io.StringIO())
    assert api_login(APIClient(), "ann").status_code == 200
    assert api_login(APIClient(), "bob").status_code == 429
    call_command("axes_reset", stdout=io.StringIO())
    assert api_login(APIClient(), "bob").status_code == 200
