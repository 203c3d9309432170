"""A for-each step in Chromium, at 1280 and 390 px wide: the leave request's handover map
shows "N of M done" on the instance page, lists each item's child, and a child's page draws
the steps it runs per item. Screenshots go to test-output/screenshots/ (for_each_*)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from processes.models import ProcessInstance
from processes.services import definition_publish, instance_start
from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.e2e.conftest import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)
SCREENS = {"page": 1280, "phone": 390}
LEAVE = Path(__file__).resolve().parents[2] / "examples" / "leave-request.yaml"


@pytest.fixture
def handover(people):
    """A leave request approved by the manager and HR, waiting for clerk's and clerk2's
    handover sign-off."""
    definition_publish(source=LEAVE.read_text(), format="yaml")
    operator = User.objects.create_superuser("operator")
    instance = instance_start(
        definition_key="leave-request",
        variables={
            "employee": "deputy",
            "days": 2,
            "first_day": "2026-12-01",
            "covered_by": ["clerk", "clerk2"],
        },
    )
    for _ in range(2):
        task = Task.objects.get(instance=instance, state=TaskState.OPEN)
        task = task_claim(task=task, user=operator)
        answer = {f: True for f, spec in task.form.items() if spec["type"] == "boolean"}
        task_complete(task=task, user=operator, variables=answer)
    return instance


@pytest.mark.parametrize("viewport", SCREENS)
def test_instance_page__shows_how_many_items_are_done(
    request, viewport, live_server, people, handover
):
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{handover.pk}/")
    progress = screen.locator(".loop-progress")
    expect(progress).to_contain_text("0 of 2 done")
    expect(progress).to_contain_text("2 running")
    children = screen.get_by_role("list", name="Subprocesses").get_by_role("listitem")
    expect(children).to_have_count(2)
    expect(children.nth(1)).to_contain_text("item 2")
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    first = ProcessInstance.objects.filter(parent=handover).order_by("created_at").first()
    task = Task.objects.get(instance=first)
    task_complete(task=task, user=people["clerk"], variables={"covers": True})
    screen.reload()
    expect(progress).to_contain_text("1 of 2 done")
    expect(progress).to_contain_text("1 running")
    shoot(screen, f"for_each_instance_{SCREENS[viewport]}")

    children.nth(1).get_by_role("link").click()
    expect(screen.locator("#parent-link")).to_be_visible()
    expect(screen.locator("[data-diagram]")).to_have_attribute("data-ready", "yes")
    step = screen.locator('.djs-element[data-element-id="Step_confirm_handover"]')
    expect(step).to_be_visible()
    shoot(screen, f"for_each_item_child_{SCREENS[viewport]}")
