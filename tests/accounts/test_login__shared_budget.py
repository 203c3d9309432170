"""One budget of failed logins per account for the API, the pages and the admin.

A client that never logged in as the account is refused (429) once the budget is spent,
right password or not; the lock ends when the failures age out (the cool-off).
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.logins import admin_login, api_login, fail_logins, page_login

pytestmark = pytest.mark.django_db


def assert_lockout_page(answer, reason: str) -> None:
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0
    page = answer.content.decode()
    assert "Login locked" in page
    assert reason in page
    assert "Try again after" in page
    assert "ask an administrator to unlock it" in page


def test_budget__failures_over_api_page_and_admin_lock_the_account_everywhere(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT - 1)  # a third each way
    assert page_login(Client(), "ann", "wrong-guess").status_code == 429  # the last one

    api = api_login(APIClient(), "ann")
    assert api.status_code == 429
    assert int(api["Retry-After"]) > 0
    assert api.json() == {
        "detail": "Too many failed logins for this account. "
        f"Try again in {api['Retry-After']} seconds, or ask an administrator to unlock it."
    }
    assert_lockout_page(page_login(Client(), "ann"), "Too many failed logins for this account.")
    assert_lockout_page(admin_login(Client(), "ann"), "Too many failed logins for this account.")
    # Nobody is logged in by a refused login, and other accounts are not touched.
    assert api_login(APIClient(), "bob").status_code == 200
    assert page_login(Client(), "bob").status_code == 302


def test_budget__logins_refused_during_a_lockout_are_not_counted(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    for _ in range(3):
        assert api_login(APIClient(), "ann", "wrong-again").status_code == 429
    counted = sum(a.failures_since_start for a in AccessAttempt.objects.filter(username="ann"))
    assert counted == settings.AXES_FAILURE_LIMIT


def test_budget__under_the_limit_the_right_password_still_logs_in(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT - 1)
    assert page_login(Client(), "ann").status_code == 302
    assert admin_login(Client(), "bob").status_code == 302  # staff
    assert api_login(APIClient(), "ann").status_code == 200


def test_cool_off__the_lock_ends_when_its_failures_age_out(people, settings):
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    assert api_login(APIClient(), "ann").status_code == 429
    for attempt in AccessAttempt.objects.filter(username="ann"):
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save()
    assert api_login(APIClient(), "ann").status_code == 200


def test_unknown_username__counts_like_any_and_never_fails_the_server(people, settings):
    fail_logins("nobody", settings.AXES_FAILURE_LIMIT)
    assert api_login(APIClient(), "nobody").status_code == 429
    assert page_login(Client(), "nobody").status_code == 429
    assert admin_login(Client(), "nobody").status_code == 429
    # Same for what is not even a valid username (the page's form refuses it unchecked).
    assert page_login(Client(), "x" * 300).status_code == 200
    assert api_login(APIClient(), "x" * 300).status_code == 400


def test_address_budget__spraying_accounts_from_one_address_locks_that_address(people, settings):
    settings.FLOWDESK_LOGIN_ADDRESS_FAILURE_LIMIT = 4
    sprayer = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(4):
        api_login(APIClient(), f"user{n}", "guess", **sprayer)

    refused = api_login(APIClient(), "ann", **sprayer)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many failed logins from your network address.")
    assert_lockout_page(
        page_login(Client(), "bob", **sprayer), "Too many failed logins from your network address."
    )
    # From anywhere else the accounts are not locked: none of them spent its own budget.
    assert api_login(APIClient(), "ann", REMOTE_ADDR="192.0.2.1").status_code == 200


def test_address_budget__forged_forwarded_for_is_ignored_without_proxies(people, settings):
    settings.FLOWDESK_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        api_login(APIClient(), f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    assert api_login(APIClient(), "ann").status_code == 429


def test_address_budget__behind_a_proxy_counts_the_address_it_vouches_for(people, settings):
    settings.NUM_PROXIES = 1
    api_login(APIClient(), "ann", "guess", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.9")
    api_login(APIClient(), "ann", "guess", HTTP_X_FORWARDED_FOR="not an address")
    addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"203.0.113.9", None}
