"""Messages on the real engine: the invoice example's service steps run on a Celery worker;
a payment message sent while the instance waits at its event gateway, and one sent with a
ttl before the instance even started, both see it through to the end exactly once."""

from pathlib import Path

import pytest

from processes.models import Event, Timer
from processes.services import definition_publish, instance_start, message_correlate
from processes.statuses import TimerStatus
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

INVOICE = Path(__file__).resolve().parents[2] / "examples" / "invoice-payment.json"


def paid_once(instance) -> bool:
    instance = fresh(instance)
    return instance.status == "completed" and instance.variables["invoice_status"] == "paid"


def test_message__delivered_while_waiting_and_buffered_before_start(worker):
    definition_publish(source=INVOICE.read_text(), format="json")
    waiting = instance_start(
        definition_key="invoice-payment", variables={"invoice_id": "INV-1", "amount": 10}
    )
    wait_for(
        lambda: Timer.objects.filter(instance=waiting, status="scheduled").exists(),
        what="the invoice sent and the gateway armed",
    )
    assert message_correlate(name="payment-received", correlation_key="INV-1").outcome == (
        "delivered"
    )
    early = message_correlate(name="payment-received", correlation_key="INV-2", ttl_seconds=60)
    assert early.outcome == "buffered"
    later = instance_start(
        definition_key="invoice-payment", variables={"invoice_id": "INV-2", "amount": 20}
    )
    for instance in (waiting, later):
        wait_for(lambda instance=instance: paid_once(instance), what="the payment booked")
        assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
        booked = Event.objects.filter(
            instance=instance, type="TASK_COMPLETED", step_id="book_payment"
        )
        assert booked.count() == 1
