"""Logging in the three ways, each a failure or a success the one budget counts."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

PASSWORD = "a-login-password-7"  # noqa: S105  (test accounts only)
API, PAGE, ADMIN = "/api/v1/auth/login", "/accounts/login/", "/admin/login/"


def api_login(client: APIClient, username: str, password: str = PASSWORD, **extra):
    return client.post(API, {"username": username, "password": password}, format="json", **extra)


def page_login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(PAGE, {"username": username, "password": password}, **extra)


def admin_login(client: Client, username: str, password: str = PASSWORD, **extra):
    form = {"username": username, "password": password, "next": "/admin/"}
    return client.post(ADMIN, form, **extra)


def log_out(client: Client) -> None:
    """Log out as the browser does (the test client's logout() also drops every cookie)."""
    assert client.post("/accounts/logout/").status_code == 302


def fail_logins(username: str, times: int, **extra) -> None:
    """Wrong passwords for `username`, from clients that never logged in."""
    for n in range(times):
        login = (api_login, page_login, admin_login)[n % 3]
        client = APIClient() if login is api_login else Client()
        answer = login(client, username, "wrong-guess", **extra)
        assert answer.status_code in (200, 401, 429)  # the form again, refused, locked
