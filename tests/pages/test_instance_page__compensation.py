"""The instance page's history tells the saga: what was to be undone, each step undone, by
its name, and the end of the undoing."""

from pathlib import Path

import pytest
from django.test import Client

from processes.services import definition_publish, instance_start
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db

SAGA = Path(__file__).resolve().parents[2] / "examples" / "order-saga.json"


def test_history__the_undone_steps_by_name(people):
    definition_publish(source=SAGA.read_text(), format="json")
    variables = {"order_id": "ORDER-9", "amount": 42.0, "destination": "Atlantis"}
    instance = instance_start(definition_key="order-saga", variables=variables)
    run_due_jobs()
    client = Client()
    client.force_login(people["boss"])
    html = client.get(f"/instances/{instance.pk}/").content.decode()
    assert "Undoing the completed steps" in html
    assert "Charge the card, Reserve the stock" in html  # in the order they are undone
    assert html.count("Step undone") == 2
    assert "Completed steps undone" in html
    assert "Compensates" not in html  # the undone completion's id is bookkeeping
