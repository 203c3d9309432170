"""A rollout on the definition page in Chromium, at 1280 and 390 px wide: the split of new
starts, each version's instances and the change list of its WorkflowVersion document.
Screenshots go to test-output/screenshots/ (rollout_*)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from processes.services import definition_publish, instance_start
from tests.e2e.conftest import log_in, shoot
from tests.pages.world import EXPENSE_SOURCE

pytestmark = pytest.mark.django_db(transaction=True)
SCREENS = {"page": 1280, "phone": 390}
ROLLOUT = """
kind: WorkflowVersion
spec:
  workflowID: expense-approval
  version: "2"
  changes:
    - {type: modified, description: "Reminders every two days"}
  migration: {strategy: gradual, rolloutPercentage: 10}
"""


@pytest.mark.parametrize("viewport", SCREENS)
def test_definition_page__shows_the_split_and_the_instances_per_version(
    request, viewport, live_server, people, expense
):
    for _ in range(3):
        instance_start(
            definition_key="expense-approval",
            variables={"amount": 50, "description": "x"},
            version=1,
        )
    second = EXPENSE_SOURCE.read_text().replace('"1.1.0"', '"1.2.0"')
    definition_publish(source=second, format="json")
    definition_publish(source=ROLLOUT, format="yaml")
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/definitions/expense-approval/")
    expect(screen.locator("#rollout")).to_contain_text("version 2 to 10% of new starts")
    expect(screen.locator(".changes")).to_contain_text("Reminders every two days")
    expect(screen.locator('tr[data-version="1"] .share')).to_have_text("90%")
    expect(screen.locator('tr[data-version="2"] .share')).to_have_text("10%")
    expect(screen.locator('tr[data-version="1"] .counts')).to_contain_text("of 3")
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(screen, f"rollout_definition_{SCREENS[viewport]}")
