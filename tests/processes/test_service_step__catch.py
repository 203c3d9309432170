"""An error caught by a `catch` rule routes to its `next`; others fail the instance."""

import json

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db

SOURCE = {
    "name": "payment",
    "steps": [
        {
            "id": "charge",
            "type": "service_task",
            "config": {
                "service_name": "test",
                "method": "raise",
                "input": {"error": "${error_name}", "message": "card declined"},
                "catch": [{"error_equals": ["PaymentDeclined"], "next": "notify"}],
            },
            "next": ["ship"],
        },
        {"id": "ship", "type": "service_task", "config": {"service_name": "test.noop"}},
        {"id": "notify", "type": "service_task", "config": {"service_name": "test.noop"}},
    ],
}


@pytest.fixture(autouse=True)
def definition():
    definition_publish(source=json.dumps(SOURCE), format="json")


def test_catch__matching_error_routes_to_its_next():
    instance = instance_start(definition_key="payment", variables={"error_name": "PaymentDeclined"})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["last_error"] == {
        "step": "charge",
        "error": "PaymentDeclined",
        "message": "card declined",
    }
    assert event_types(instance, "notify") == ["TASK_SCHEDULED", "TASK_COMPLETED"]
    assert event_types(instance, "ship") == []


def test_catch__other_error_fails_the_instance():
    instance = instance_start(definition_key="payment", variables={"error_name": "Timeout"})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "Timeout"
