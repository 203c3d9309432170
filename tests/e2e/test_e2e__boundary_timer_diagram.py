"""Boundary timers in Chromium: a step's timer boundary events (interrupting, and a
non-interrupting reminder) import into the vendored bpmn-js without a warning, attached to
their task, and the instance page draws the task it waits at (screenshots at 1280 and 390 px
wide, by the page fixtures)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from processes.services import definition_publish, instance_start
from tests.e2e.conftest import log_in
from tests.e2e.test_e2e__diagrams import IMPORT_AGAIN, element, ready

pytestmark = pytest.mark.django_db(transaction=True)

ESCALATION = {
    "name": "escalation",
    "steps": [
        {
            "id": "approve",
            "name": "Approve",
            "type": "user_task",
            "config": {
                "assignee": "boss",
                "boundary": [
                    {"type": "timer", "duration": "3d", "next": "escalate"},
                    {
                        "type": "timer",
                        "duration": "1d",
                        "interrupting": False,
                        "repeat": 2,
                        "next": "remind",
                    },
                ],
            },
            "next": "done",
        },
        {"id": "escalate", "name": "Escalated", "type": "end"},
        {"id": "remind", "name": "Reminded", "type": "end"},
        {"id": "done", "name": "Done", "type": "end"},
    ],
}


def start_escalation(people):
    definition_publish(source=json.dumps(ESCALATION), format="json")
    return instance_start(definition_key="escalation", user=people["boss"])


def test_definition_page__boundary_timers_import_without_warnings(page, live_server, people):
    start_escalation(people)
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/definitions/escalation/")
    ready(page)
    expect(element(page, "Timer_approve_1")).to_be_visible()
    expect(element(page, "Timer_approve_2")).to_be_visible()
    drawn = page.evaluate(IMPORT_AGAIN)
    assert drawn["warnings"] == []
    # The start, four steps and two boundary events; start->approve, approve->done and one
    # flow from each boundary event.
    assert (drawn["shapes"], drawn["connections"]) == (7, 4)


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_instance_page__draws_the_boundary_timers_of_the_waiting_task(
    request, viewport, live_server, people
):
    instance = start_escalation(people)
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{instance.pk}/")
    ready(screen)
    expect(element(screen, "Step_approve")).to_have_class(re.compile(r"\bfd-waiting\b"))
    expect(element(screen, "Timer_approve_1")).to_be_visible()
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
