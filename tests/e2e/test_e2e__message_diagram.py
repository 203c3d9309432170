"""Message waits in Chromium: the invoice example's event gateway, message catch event and
message boundary event import into the vendored bpmn-js without a warning; the instance
page marks the gateway it waits at, and then the path the payment message took
(screenshots at 1280 and 390 px wide)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from processes.services import definition_publish, instance_start, message_correlate
from tests.e2e.conftest import log_in
from tests.e2e.test_e2e__diagrams import element, ready
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)

PASSED = re.compile(r"\bfd-passed\b")
INVOICE = Path(__file__).resolve().parents[2] / "examples" / "invoice-payment.json"


def start_invoice(people):
    definition_publish(source=INVOICE.read_text(), format="json")
    instance = instance_start(
        definition_key="invoice-payment",
        variables={"invoice_id": "INV-9", "amount": 120},
        user=people["boss"],
    )
    run_due_jobs()
    return instance


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_instance_page__marks_the_event_gateway_it_waits_at(request, viewport, live_server, people):
    instance = start_invoice(people)
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{instance.pk}/")
    ready(screen)
    expect(element(screen, "Step_await_payment")).to_have_class("djs-element djs-shape fd-waiting")
    expect(element(screen, "Message_chase_payment_1")).to_be_visible()
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screen.screenshot(
        path=f"test-output/screenshots/invoice_waiting[{viewport}].png", full_page=True
    )


def test_instance_page__shows_the_path_the_payment_took(page, live_server, people):
    instance = start_invoice(people)
    message_correlate(name="payment-received", correlation_key="INV-9")
    run_due_jobs()
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/instances/{instance.pk}/")
    ready(page)
    for step in ("Step_await_payment", "Step_payment_received", "Step_book_payment"):
        expect(element(page, step)).to_have_class(PASSED)
    expect(element(page, "Step_fourteen_days")).not_to_have_class(PASSED)
    page.screenshot(path="test-output/screenshots/invoice_paid.png")
