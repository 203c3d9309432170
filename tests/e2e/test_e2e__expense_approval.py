"""An expense goes from a clerk's start form through a manager's approval to completion."""

import re

import pytest
from playwright.sync_api import expect

from processes.models import ProcessInstance
from processes.statuses import InstanceStatus, TaskState
from tasks.models import Task
from tests.e2e.conftest import log_in, log_out, shoot
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_expense__started_claimed_corrected_approved_completed(
    page, live_server, workers, people, expense
):
    workers.start("pages-e2e", concurrency=1)
    base = live_server.url

    # A clerk starts an expense of 5,000.
    log_in(page, base, "clerk")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start a process").click()
    page.get_by_role("link", name="Start “Expense approval”").click()
    page.get_by_label("Amount (EUR)").fill("5,000")
    page.get_by_label("What it was for").fill("Conference in Lyon")
    page.get_by_label("Business key").fill("EXP-2026-001")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#instance-status")).to_have_text("Running")
    expect(page.get_by_text("waiting for manager")).to_be_visible()
    shoot(page, "expense-1-clerk-started")
    instance = ProcessInstance.objects.get(business_key="EXP-2026-001")
    assert instance.variables["amount"] == 5000
    log_out(page)

    # The manager finds it in the group queue and claims it without a page reload.
    log_in(page, base, "boss")
    page.get_by_role("link", name=re.compile(r"^Group queue")).click()
    expect(page.locator("#count-queue")).to_have_text("1")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="Claim Approve the expense (EXP-2026-001)").click()
    expect(page.get_by_text("Claimed: now in My tasks.")).to_be_visible()
    expect(page.locator("#count-mine")).to_have_text("1")
    expect(page.locator("#count-queue")).to_have_text("0")
    assert page.evaluate("window.sameDocument") is True
    shoot(page, "expense-2-manager-claimed")

    # Submitted empty: the error is next to the field, the task is still the manager's.
    page.get_by_role("link", name="Open").click()
    expect(page.locator(".case")).to_contain_text("5,000")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#id_comments_error")).to_have_text("This field is required.")
    expect(page.get_by_label("Comments")).to_have_attribute("aria-invalid", "true")
    task = Task.objects.get(instance=instance)
    assert (task.state, task.assignee) == (TaskState.ASSIGNED, people["boss"])
    shoot(page, "expense-3-form-errors")

    # Approved with a comment; the worker runs the notification and the process completes.
    page.get_by_label("Comments").fill("Within the travel budget.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Completed “Approve the expense”.")).to_be_visible()
    wait_for(
        lambda: fresh(instance).status == InstanceStatus.COMPLETED,
        timeout=60,
        what="the notification step to run on the worker",
    )
    page.get_by_role("link", name=re.compile(r"^Done")).click()
    page.get_by_role("link", name="Approve the expense").click()
    page.get_by_role("link", name="Expense approval").click()
    expect(page.locator("#instance-status")).to_have_text("Completed")
    timeline = page.locator(".timeline")
    for label in ("Process started", "Decision taken", "Task claimed", "Process completed"):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("Within the travel budget.")
    assert fresh(instance).variables["notification"].startswith("Your expense EXP-2026-001 was")


def test_expense__a_second_clerk_cannot_open_the_first_clerks_task(
    page, live_server, people, expense_task
):
    base = live_server.url
    log_in(page, base, "clerk2")
    assert page.goto(f"{base}/tasks/{expense_task.pk}/").status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert page.goto(f"{base}/instances/{expense_task.instance_id}/").status == 404
