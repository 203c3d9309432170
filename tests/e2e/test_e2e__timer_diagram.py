"""Timer steps in Chromium: their BPMN (timer intermediate catch events) imports into the
vendored bpmn-js without a warning, and the instance page marks the timers it waits at
(screenshots at 1280 and 390 px wide)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from processes.services import definition_publish, instance_start
from tests.e2e.conftest import log_in
from tests.e2e.test_e2e__diagrams import IMPORT_AGAIN, element, ready

pytestmark = pytest.mark.django_db(transaction=True)

COOL_OFF = {
    "name": "cool-off",
    "variables": {"deadline": "string"},
    "steps": [
        {"id": "split", "name": "Both", "type": "parallel_gateway", "next": ["wait", "until"]},
        {"id": "wait", "name": "Two hours", "type": "timer", "config": {"duration": "PT2H"}},
        {
            "id": "until",
            "name": "Until the deadline",
            "type": "timer",
            "config": {"until": "${deadline}"},
            "next": "done",
        },
        {"id": "done", "name": "Done", "type": "end"},
    ],
}


def start_cool_off(people):
    definition_publish(source=json.dumps(COOL_OFF), format="json")
    return instance_start(
        definition_key="cool-off",
        variables={"deadline": "2099-01-01T09:00:00Z"},
        user=people["boss"],
    )


def test_definition_page__timer_events_import_without_warnings(page, live_server, people):
    start_cool_off(people)
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/definitions/cool-off/")
    ready(page)
    drawn = page.evaluate(IMPORT_AGAIN)
    assert drawn["warnings"] == []
    assert (drawn["shapes"], drawn["connections"]) == (5, 4)  # the start and four steps


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_instance_page__marks_the_timers_it_waits_at(request, viewport, live_server, people):
    instance = start_cool_off(people)
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{instance.pk}/")
    ready(screen)
    for step in ("Step_wait", "Step_until"):
        expect(element(screen, step)).to_have_class("djs-element djs-shape fd-waiting")
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
