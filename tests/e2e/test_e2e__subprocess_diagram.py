"""A subprocess step in Chromium: the callActivity imports into the vendored bpmn-js
without a warning."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_e2e__diagrams import IMPORT_AGAIN, element, ready
from tests.processes.test_subprocess__call import call, end
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db(transaction=True)


def test_definition_page__call_activity_imports_without_warnings(page, live_server, people):
    publish("credit-check", [end("done")])
    publish("loan", [call("check", "credit-check", next=["done"]), end("done")])
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/definitions/loan/")
    ready(page)
    expect(element(page, "Step_check")).to_be_visible()
    drawn = page.evaluate(IMPORT_AGAIN)
    assert drawn["warnings"] == []
    assert (drawn["shapes"], drawn["connections"]) == (3, 2)
