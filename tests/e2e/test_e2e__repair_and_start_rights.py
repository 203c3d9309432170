"""Repair and start rights in a browser: a manager corrects a suspended case's variables and
resumes it; grants a clerk the right to start a process, and the clerk starts it. At 1280
and 390 px."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from processes.models import Event, ProcessInstance
from processes.services import definition_publish, instance_start, instance_suspend
from processes.statuses import EventType
from tests.e2e.conftest import log_in, log_out, shoot

LEAVE = {
    "name": "Day off",
    "key": "day-off",
    "description": "Ask for a day off.",
    "variables": {
        "days": {"type": "integer", "required": True, "label": "Days off"},
        "items": {"type": "string", "label": "Items to hand over"},
    },
    "steps": [
        {
            "id": "ok",
            "name": "Approve",
            "type": "user_task",
            "config": {"candidate_groups": ["manager"]},
        }
    ],
}


@pytest.fixture
def suspended(people):
    definition_publish(source=json.dumps(LEAVE), format="json")
    instance = instance_start(
        definition_key="day-off", variables={"days": 3, "items": "laptop"}, business_key="L-1"
    )
    instance_suspend(instance=instance)
    return instance


@pytest.mark.parametrize("screen", ["page", "phone"])
def test_repair__edit_variables_then_resume(request, screen, live_server, people, suspended):
    view = request.getfixturevalue(screen)
    base = live_server.url
    log_in(view, base, "boss")
    view.goto(f"{base}/instances/{suspended.pk}/")
    view.get_by_role("link", name="Edit variables").click()
    expect(view.get_by_role("heading", name="Edit variables")).to_be_visible()
    view.get_by_label("Days off").fill("2")
    view.get_by_label("Items to hand over").fill("laptop, badge")
    shoot(view, f"repair__form_{screen}")
    view.get_by_role("button", name="Save the variables").click()
    expect(view.get_by_text("Variables saved.")).to_be_visible()
    expect(view.locator(".timeline")).to_contain_text("Variables edited")
    expect(view.locator(".timeline")).to_contain_text("3 → 2")
    view.get_by_role("button", name="Resume").click()
    expect(view.locator("#instance-status")).to_have_text("Running")
    shoot(view, f"repair__resumed_{screen}")
    instance = ProcessInstance.objects.get(pk=suspended.pk)
    assert instance.variables == {"days": 2, "items": "laptop, badge"}
    edit = Event.objects.get(instance=instance, type=EventType.VARIABLES_UPDATED)
    assert edit.actor == people["boss"]


@pytest.mark.parametrize("screen", ["page", "phone"])
def test_start_rights__granted_on_the_page_then_the_clerk_starts(
    request, screen, live_server, people
):
    page = request.getfixturevalue(screen)
    definition_publish(source=json.dumps(LEAVE), format="json")
    base = live_server.url
    log_in(page, base, "clerk")
    page.goto(f"{base}/start/day-off/")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()  # not yet theirs
    log_out(page)

    log_in(page, base, "boss")
    page.goto(f"{base}/definitions/day-off/")
    page.get_by_role("link", name="Grant or revoke").click()
    page.get_by_label("Or a user (username)").fill("clerk")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator("#starters")).to_contain_text("clerk")
    shoot(page, f"start_rights__granted_{screen}")
    log_out(page)

    log_in(page, base, "clerk")
    page.goto(f"{base}/start/day-off/")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Days off")).to_be_visible()
    expect(page.locator(".errorlist")).to_contain_text("This field is required")
    page.get_by_label("Days off").fill("1")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Started “Day off”")).to_be_visible()
    shoot(page, f"start_rights__clerk_started_{screen}")
