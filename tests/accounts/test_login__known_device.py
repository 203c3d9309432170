"""The owner's device is not locked out by someone else's guessing.

A browser (or API client keeping cookies) that logged in as an account gets a signed,
HttpOnly cookie; during a lockout it may still log in as that account with the right
password. Its own failures count against a budget of its own (and the account's).
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.known_devices import COOKIE
from accounts.models import KnownDevice
from tests.accounts.logins import admin_login, api_login, fail_logins, log_out, page_login

pytestmark = pytest.mark.django_db


def test_cookie__a_successful_login_sets_a_signed_httponly_cookie(people):
    browser = Client()
    assert page_login(browser, "ann").status_code == 302
    cookie = browser.cookies[COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 30 * 86400
    assert KnownDevice.objects.get(user=people["ann"]).key in cookie.value  # signed: key:sig
    assert cookie.value != KnownDevice.objects.get(user=people["ann"]).key


def test_known_device__logs_in_with_the_right_password_during_a_lockout(people, settings):
    browser, script, admin_browser = Client(), APIClient(), Client()
    assert page_login(browser, "ann").status_code == 302
    assert api_login(script, "ann").status_code == 200
    assert admin_login(admin_browser, "bob").status_code == 302
    log_out(browser)
    log_out(admin_browser)
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    fail_logins("bob", settings.AXES_FAILURE_LIMIT)
    assert api_login(APIClient(), "ann").status_code == 429  # an unknown client

    assert page_login(browser, "ann").status_code == 302
    assert browser.get("/").status_code == 200
    assert api_login(script, "ann").status_code == 200
    assert admin_login(admin_browser, "bob").status_code == 302
    # The owner's login does not lift the lock for everyone else.
    assert api_login(APIClient(), "ann").status_code == 429


def test_known_device__a_wrong_password_is_still_refused_and_counted(people, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)

    answer = page_login(browser, "ann", "wrong-guess")
    assert answer.status_code == 200  # the form again: a failure, not a lockout
    assert "correct username and password" in answer.content.decode()
    assert KnownDevice.objects.get(user=people["ann"]).failures == 1


def test_known_device__its_own_failures_lock_it_too(people, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert page_login(browser, "ann", "wrong-guess").status_code == 200
    last = page_login(browser, "ann", "wrong-guess")
    assert last.status_code == 429
    assert "Too many failed logins for this account from this browser." in last.content.decode()

    refused = page_login(browser, "ann")
    assert refused.status_code == 429
    assert "browser where you have logged in" not in refused.content.decode()


def test_known_device__only_for_the_account_it_logged_in_as(people, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    fail_logins("bob", settings.AXES_FAILURE_LIMIT)
    assert page_login(browser, "bob").status_code == 429


def test_known_device__a_forged_cookie_is_an_unknown_device(people, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    key = KnownDevice.objects.get(user=people["ann"]).key

    browser.cookies[COOKIE] = key  # the key without its signature
    assert page_login(browser, "ann").status_code == 429
    browser.cookies[COOKIE] = key + ":forged-signature"
    assert page_login(browser, "ann").status_code == 429


def test_known_device__forgotten_after_the_remembered_days(people, settings):
    browser = Client()
    page_login(browser, "ann")
    log_out(browser)
    fail_logins("ann", settings.AXES_FAILURE_LIMIT)
    settings.FLOWDESK_KNOWN_DEVICE_DAYS = 0
    assert page_login(browser, "ann").status_code == 429


def test_known_devices__clients_without_cookies_do_not_pile_up(people):
    from accounts.services import KNOWN_DEVICES_KEPT

    for _ in range(KNOWN_DEVICES_KEPT + 5):
        assert api_login(APIClient(), "ann").status_code == 200  # a fresh client each time
    assert KnownDevice.objects.filter(user=people["ann"]).count() == KNOWN_DEVICES_KEPT
