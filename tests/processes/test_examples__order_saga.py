"""The order saga example in both outcomes: shipped, or undone in reverse and cancelled."""

from pathlib import Path

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db

SAGA = Path(__file__).resolve().parents[2] / "examples" / "order-saga.json"


def run_order(destination: str):
    definition_publish(source=SAGA.read_text(), format="json")
    variables = {"order_id": "ORDER-9", "amount": 42.0, "destination": destination}
    instance = instance_start(definition_key="order-saga", variables=variables)
    run_due_jobs()
    return fresh(instance)


def test_order_saga__shipped_undoes_nothing():
    instance = run_order("Berlin")
    assert instance.status == "completed"
    assert instance.variables["tracking_number"] == "TRK-ORDER-9"
    assert not instance.events.filter(type="COMPENSATION_STARTED").exists()


def test_order_saga__shipping_fails_refunds_then_releases_and_cancels_the_order():
    instance = run_order("Atlantis")
    assert instance.status == "failed"
    assert instance.error["error"] == "OrderCancelled"
    assert instance.variables["last_error"]["error"] == "ShippingFailed"
    undone = instance.events.filter(type="STEP_COMPENSATED").order_by("id")
    assert [event.step_id for event in undone] == ["charge_card", "reserve_stock"]
    assert instance.variables["refund_of"] == "PAY-ORDER-9"
    assert instance.variables["refunded"] == 42.0 and instance.variables["charged"] == 0
    assert instance.variables["released"] == "RES-ORDER-9"
    assert instance.variables["stock_reserved"] is False
