"""Logging in for tokens, refreshing them, Bearer or session on every route, locked guessing."""

import pytest
from rest_framework.test import APIClient

from tests.api.support import PASSWORD

LOGIN, REFRESH, TASKS = "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/tasks"

pytestmark = pytest.mark.django_db


def login(client: APIClient, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password}, format="json")


def test_login__answers_bearer_tokens_that_open_the_api(people):
    client = APIClient()
    answer = login(client, "ann")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert client.get(TASKS).status_code == 200
    people["ann"].refresh_from_db()
    assert people["ann"].last_login is not None


@pytest.mark.parametrize(
    ("username", "password", "status"),
    [("ann", "wrong", 401), ("nobody", "s3cret-pass", 401), ("eve", "", 400)],
)
def test_login__bad_credentials_are_refused(people, username, password, status):
    answer = login(APIClient(), username, password)
    assert answer.status_code == status
    assert answer.json()["detail"]


def test_login__an_inactive_account_cannot_log_in(people):
    people["ann"].is_active = False
    people["ann"].save()
    assert login(APIClient(), "ann").status_code == 401


def test_routes__need_a_token_or_a_session(people):
    anonymous = APIClient()
    answer = anonymous.get(TASKS)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anonymous.get(TASKS).status_code == 401
    browser = APIClient()
    browser.force_login(people["ann"])
    assert browser.get(TASKS).status_code == 200


def test_refresh__a_refresh_token_gives_a_new_access_token(people):
    client = APIClient()
    tokens = login(client, "ann").json()
    answer = client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert answer.status_code == 200
    assert set(answer.json()) == {"access_token", "token_type", "expires_in"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
    assert client.get(TASKS).status_code == 200
    access_as_refresh = {"refresh_token": tokens["access_token"]}
    assert client.post(REFRESH, access_as_refresh, format="json").status_code == 401


def test_password_change__revokes_the_tokens_issued_before(people):
    client = APIClient()
    tokens = login(client, "ann").json()
    people["ann"].set_password("another-pass-42")
    people["ann"].save()
    refresh = client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert refresh.status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert client.get(TASKS).status_code == 401


def test_refresh__an_account_deleted_since_cannot_refresh(people):
    tokens = login(APIClient(), "eve").json()
    people["eve"].delete()
    answer = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert answer.status_code == 401


def test_throttle__failed_logins_lock_the_account_even_for_the_right_password(people, settings):
    client = APIClient()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        # A forged X-Forwarded-For per guess does not buy a fresh budget.
        client.credentials(HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert login(client, "ann", "guess").status_code == 401
    assert login(client, "ann", "guess").status_code == 429  # the one that uses it up
    throttled = login(APIClient(), "ann")  # a client ann never logged in from
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "ask an administrator" in throttled.json()["detail"]
    # Another account from the same address is still let in: the username counts.
    assert login(client, "bob").status_code == 200


def test_throttle__successful_logins_do_not_count(people, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert login(client, "ann").status_code == 200


def test_login__a_username_longer_than_any_account_is_bad_input(people):
    answer = login(APIClient(), "a" * 151)
    assert answer.status_code == 400
    assert "username" in answer.json()["errors"]
