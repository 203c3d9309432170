"""The pages on a phone-sized screen, and the inbox worked with the keyboard alone."""

from playwright.sync_api import Locator, Page, expect

from processes.statuses import TaskState
from tasks.models import Task
from tests.e2e.conftest import PASSWORD, log_in


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def fits(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone__inbox_task_and_instance_pages_fit(phone, live_server, people, expense_task):
    base = live_server.url
    log_in(phone, base, "boss")
    phone.goto(f"{base}/?tab=queue")
    expect(phone.get_by_role("button", name="Claim Approve the expense (EXP-1)")).to_be_visible()
    assert fits(phone)
    phone.goto(f"{base}/tasks/{expense_task.pk}/")
    phone.get_by_role("button", name="Claim").click()
    expect(phone.get_by_role("button", name="Reject")).to_be_visible()
    assert fits(phone)
    phone.goto(f"{base}/instances/{expense_task.instance_id}/")
    expect(phone.get_by_role("button", name="Suspend")).to_be_visible()
    assert fits(phone)


def test_keyboard__log_in_and_claim_without_a_mouse(page, live_server, people, expense_task):
    base = live_server.url
    page.goto(f"{base}/?tab=queue")  # the login page, then back here
    tab_to(page, page.get_by_role("link", name="Skip to content"))
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("boss")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Claim Approve the expense (EXP-1)"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Claimed: now in My tasks.")).to_be_visible()
    assert Task.objects.get(pk=expense_task.pk).state == TaskState.ASSIGNED
