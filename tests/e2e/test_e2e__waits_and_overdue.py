"""Time in Chromium, at 1280 and 390 px wide: the inbox marks an overdue task, and the instance
page shows what the instance waits for (the example's reminder and escalation, one of them
overdue) and lets a manager fire the escalation now with a reason. Screenshots of each go to
test-output/screenshots/ (waits_*)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from processes.models import Timer
from processes.services import instance_suspend
from tasks.models import Task
from tests.e2e.conftest import SCREENSHOTS, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)
SCREENS = {"page": 1280, "phone": 390}


def fits(screen: Page) -> bool:
    return screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", SCREENS)
def test_inbox__an_overdue_task_is_marked(request, viewport, live_server, people, expense_task):
    Task.objects.filter(pk=expense_task.pk).update(due_date=timezone.now() - timedelta(days=1))
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/?tab=queue")
    due = screen.locator(f"#task-{expense_task.pk} td[data-label='Due']")
    expect(due).to_have_class("overdue")
    expect(due.get_by_text("overdue", exact=True)).to_be_visible()
    assert fits(screen)
    shoot(screen, f"waits_inbox_overdue_{SCREENS[viewport]}")


@pytest.mark.parametrize("viewport", SCREENS)
def test_instance_page__the_waits_panel_fires_the_escalation_now(
    request, viewport, live_server, people, expense_task
):
    instance = expense_task.instance
    reminder = Timer.objects.get(instance=instance, boundary=0)
    # No sweeper runs here: an overdue reminder stays overdue, as on a suspended instance.
    Timer.objects.filter(pk=reminder.pk).update(due_at=timezone.now() - timedelta(hours=2))
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{instance.pk}/")

    panel = screen.locator("#waits")
    expect(panel.get_by_role("heading", name="Waiting for")).to_be_visible()
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Non-interrupting timer (1 of 3)")
    expect(rows.nth(0).locator("td[data-label='Due']")).to_have_class("overdue")
    expect(rows.nth(1)).to_contain_text("Interrupting timer → Approve the expense (escalated)")
    expect(rows.nth(1).locator("code.iso")).to_contain_text("T")
    assert fits(screen)
    assert panel.evaluate("p => p.scrollWidth <= p.clientWidth")  # nothing sticks out
    shoot(screen, f"waits_instance_panel_{SCREENS[viewport]}")
    panel.screenshot(path=SCREENSHOTS / f"waits_panel_{SCREENS[viewport]}.png")

    escalation = rows.nth(1)
    escalation.get_by_text("Fire now…").click()
    escalation.get_by_label("Reason (for the history)").fill("The managers are at the offsite")
    assert fits(screen)
    shoot(screen, f"waits_instance_fire_form_{SCREENS[viewport]}")
    escalation.get_by_role("button", name="Fire now").click()

    expect(
        screen.get_by_text("Timer fired; the timeline shows it with your reason.")
    ).to_be_visible()
    # The escalated step has no timers and the reminder went with its step: nothing to wait for.
    expect(screen.locator("#waits")).to_have_count(0)
    timeline = screen.locator(".timeline")
    expect(timeline).to_contain_text("The managers are at the offsite")
    expect(screen.get_by_text("waiting for team-leads")).to_be_visible()


def test_instance_page__a_suspended_instance_offers_no_fire_now(
    page, live_server, people, expense_task
):
    instance_suspend(instance=expense_task.instance)
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/instances/{expense_task.instance_id}/")
    expect(page.locator("#waits tbody tr")).to_have_count(2)
    expect(page.get_by_text("Fire now…")).to_have_count(0)
