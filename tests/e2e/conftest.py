"""Browser tests: Debian's headless Chromium driven by Playwright against pytest-django's
live server (on the test database), with real worker processes where steps must run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.pages.world import PASSWORD, expense, expense_task, people  # noqa: F401  (fixtures)

# Playwright's sync API keeps an event loop running in the test thread; the test's own ORM
# calls (setting up data, checking it) are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Browser, request: pytest.FixtureRequest, viewport: dict) -> Page:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    shoot(page, request.node.name)
    context.close()


@pytest.fixture
def page(browser, request) -> Page:
    """A desktop-sized page; the test's last screen is saved as a screenshot."""
    yield from _page(browser, request, DESKTOP)


@pytest.fixture
def phone(browser, request) -> Page:
    """A page as wide as a phone (390 px)."""
    yield from _page(browser, request, PHONE)


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
