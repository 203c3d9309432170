"""Guessing a password in the browser ends on the lockout page; the owner's browser gets in."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, log_in, log_out


def guess(page: Page, base: str, username: str, times: int) -> None:
    for _ in range(times):
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()


def test_lockout__page_says_when_to_try_again(page, live_server, people, settings):
    base = live_server.url
    guess(page, base, "clerk", settings.AXES_FAILURE_LIMIT)
    expect(page.get_by_role("heading", name="Login locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Too many failed logins for this account.")
    expect(page.get_by_text("ask an administrator to unlock it")).to_be_visible()


def test_lockout__on_a_phone_even_the_right_password_is_refused(
    phone, live_server, people, settings
):
    base = live_server.url
    guess(phone, base, "clerk", settings.AXES_FAILURE_LIMIT)
    phone.goto(f"{base}/accounts/login/")
    phone.get_by_label("Username").fill("clerk")
    phone.get_by_label("Password").fill(PASSWORD)  # the right one, from an unknown browser
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", name="Login locked")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_lockout__the_owners_browser_still_logs_in(page, browser, live_server, people, settings):
    base = live_server.url
    log_in(page, base, "clerk")
    log_out(page)
    stranger = browser.new_context().new_page()
    guess(stranger, base, "clerk", settings.AXES_FAILURE_LIMIT)
    expect(stranger.get_by_role("heading", name="Login locked")).to_be_visible()
    stranger.context.close()
    log_in(page, base, "clerk")
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()
