"""The cases page in a browser: a clerk and a manager filter it and follow a row, on a
desktop and on a phone, with the keyboard."""

import pytest
from playwright.sync_api import Page, expect

from processes.services import instance_suspend
from tests.e2e.conftest import log_in, log_out, shoot
from tests.pages.world import start_expense


@pytest.fixture
def cases(people, expense_task):
    """EXP-1 (running) and EXP-2 (suspended) by the clerk; EXP-9 by clerk2."""
    suspended = start_expense(by=people["clerk"], key="EXP-2").instance
    instance_suspend(instance=suspended, user=people["boss"])
    start_expense(by=people["clerk2"], key="EXP-9")
    return {"running": expense_task.instance, "suspended": suspended}


def case_links(page: Page):
    return page.locator("tr.case-row td:first-child a")


def test_cases__a_clerk_filters_and_opens_a_case(page, live_server, cases):
    base = live_server.url
    log_in(page, base, "clerk")
    page.get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", name="My cases")).to_be_visible()
    expect(case_links(page)).to_have_text(["EXP-2", "EXP-1"])  # not clerk2's EXP-9
    shoot(page, "cases__clerk_1280")

    page.get_by_label("Status").select_option("suspended")
    page.get_by_role("button", name="Apply").click()
    expect(case_links(page)).to_have_text(["EXP-2"])
    expect(page.locator("tr.case-row .badge")).to_have_text("Suspended")
    shoot(page, "cases__clerk_filtered_1280")

    case_links(page).first.click()
    page.wait_for_url(f"{base}/instances/{cases['suspended'].pk}/")
    expect(page.get_by_role("heading", name="EXP-2")).to_be_visible()


def test_cases__a_manager_sees_all_and_what_waits_on_them(page, live_server, cases):
    base = live_server.url
    log_in(page, base, "boss")
    page.goto(f"{base}/instances/")
    expect(page.get_by_role("heading", name="All cases")).to_be_visible()
    expect(case_links(page)).to_have_text(["EXP-9", "EXP-2", "EXP-1"])
    expect(page.locator("tr.case-row").first).to_contain_text("waiting for manager")
    shoot(page, "cases__manager_1280")

    page.get_by_label("Search").fill("exp-1")
    page.get_by_label("Show").select_option("waiting")
    page.get_by_role("button", name="Apply").click()
    expect(case_links(page)).to_have_text(["EXP-1"])
    page.get_by_label("Search").fill("nothing-like-it")
    page.get_by_role("button", name="Apply").click()
    expect(
        page.get_by_text("No case matches “nothing-like-it” with these filters.")
    ).to_be_visible()
    shoot(page, "cases__manager_no_match_1280")
    log_out(page)


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone__cases_page_fits_and_works_with_the_keyboard(phone, live_server, cases):
    base = live_server.url
    for who, rows in (("clerk", 2), ("boss", 3)):
        log_in(phone, base, who)
        phone.goto(f"{base}/instances/")
        expect(case_links(phone)).to_have_count(rows)
        assert fits(phone)
        shoot(phone, f"cases__{who}_390")
        log_out(phone)

    log_in(phone, base, "clerk")
    phone.goto(f"{base}/instances/")
    phone.get_by_label("Search").focus()
    phone.keyboard.type("exp-1")
    phone.keyboard.press("Enter")
    expect(case_links(phone)).to_have_text(["EXP-1"])
    case_links(phone).first.focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{base}/instances/{cases['running'].pk}/")
    assert fits(phone)
