"""Inclusive gateways and terminate ends in Chromium: their BPMN (inclusiveGateway, an
endEvent with a terminateEventDefinition) imports into the vendored bpmn-js without a
warning, and the instance page draws an instance that a terminate end completed."""

from __future__ import annotations

import json

import pytest

from processes.services import definition_publish, instance_start
from tests.e2e.conftest import log_in
from tests.e2e.test_e2e__diagrams import IMPORT_AGAIN, ready

pytestmark = pytest.mark.django_db(transaction=True)

REVIEWS = {
    "name": "reviews",
    "variables": {"legal": "boolean", "tech": "boolean", "urgent": "boolean"},
    "steps": [
        {
            "id": "split",
            "name": "Which reviews?",
            "type": "inclusive_gateway",
            "config": {
                "conditions": [
                    {"expression": "${legal}", "next": "legal"},
                    {"expression": "${tech}", "next": "tech"},
                ],
                "default": "join",
            },
        },
        {"id": "legal", "name": "Legal", "type": "user_task", "next": ["join"]},
        {"id": "tech", "name": "Tech", "type": "user_task", "next": ["join"]},
        {"id": "join", "name": "All taken done", "type": "inclusive_gateway", "next": ["urgent"]},
        {
            "id": "urgent",
            "name": "Urgent?",
            "type": "exclusive_gateway",
            "config": {
                "conditions": [{"expression": "${urgent}", "next": "stop"}],
                "default": "done",
            },
        },
        {"id": "stop", "name": "Stop everything", "type": "end", "config": {"terminate": True}},
        {"id": "done", "name": "Done", "type": "end"},
    ],
}


def test_definition_page__inclusive_gateways_and_terminate_end_import_without_warnings(
    page, live_server, people
):
    definition_publish(source=json.dumps(REVIEWS), format="json")
    instance = instance_start(
        definition_key="reviews",
        variables={"legal": False, "tech": False, "urgent": True},
        user=people["boss"],
    )
    assert instance.status == "completed"
    log_in(page, live_server.url, "boss")
    for path in ("/definitions/reviews/", f"/instances/{instance.pk}/"):
        page.goto(f"{live_server.url}{path}")
        ready(page)
        drawn = page.evaluate(IMPORT_AGAIN)
        assert drawn["warnings"] == [], path
        # the start and seven steps; the start's flow and eight more
        assert (drawn["shapes"], drawn["connections"]) == (8, 9), path
