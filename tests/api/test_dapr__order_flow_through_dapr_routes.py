"""A whole order flow driven only through Dapr's workflow routes, as a Dapr client sends them.

A live server, a real worker, and plain HTTP: `requests` with a Bearer token, the input and
event data as raw JSON bodies, the instance id in the query string. Nothing else touches the
engine once the definition is published.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from processes.models import ProcessInstance
from processes.services import definition_publish
from tests.api.support import PASSWORD
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

# Validate (service step) -> wait for the payment (a message) -> charge (service step).
ORDER = {
    "name": "dapr-order",
    "description": "An order waits for its payment, then is charged",
    "version": "1",
    "variables": {"order_id": "string", "total_amount": "number"},
    "steps": [
        {
            "id": "validate",
            "type": "service_task",
            "config": {"service_name": "validate-order"},
            "next": ["valid"],
        },
        {
            "id": "valid",
            "type": "exclusive_gateway",
            "config": {
                "conditions": [{"expression": "${valid}", "next": "await_payment"}],
                "default": "rejected",
            },
        },
        {
            "id": "await_payment",
            "type": "message_catch",
            "config": {"message": "payment-received", "correlation_key": "${order_id}"},
            "next": ["charge"],
        },
        {
            "id": "charge",
            "type": "service_task",
            "config": {"service_name": "create-payment"},
            "next": ["shipped"],
        },
        {"id": "shipped", "type": "end"},
        {"id": "rejected", "type": "end"},
    ],
}

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$")


class DaprClient:
    """What a Dapr HTTP client sends: POSTs with raw bodies, GETs, a Bearer token."""

    def __init__(self, base: str, username: str) -> None:
        self.base = f"{base}/v1.0/workflows/flowdesk"
        self.http = requests.Session()
        login = self.http.post(
            f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

    def post(self, path: str, body: dict | None = None, expect: int = 202) -> dict:
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        answer = self.http.post(f"{self.base}/{path}", data=data, headers=headers, timeout=10)
        assert answer.status_code == expect, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        return answer.json()

    def get(self, instance_id: str) -> dict:
        answer = self.http.get(f"{self.base}/{instance_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def status(self, instance_id: str) -> str:
        return self.get(instance_id)["runtimeStatus"]

    def variables(self, instance_id: str) -> dict:
        return json.loads(self.get(instance_id)["properties"]["flowdesk.variables"])


@pytest.fixture
def order_definition(people):
    definition_publish(source=json.dumps(ORDER), format="json")


def test_dapr__an_order_runs_start_to_completion_through_the_dapr_routes_only(
    live_server, worker, people, order_definition
):
    dapr = DaprClient(live_server.url, "maria")
    order = {"order_id": "A-17", "total_amount": 120}

    # Start with a caller-chosen id; starting again with it is idempotent.
    assert dapr.post("dapr-order/start?instanceID=order-A-17", order) == {
        "instanceID": "order-A-17"
    }
    assert dapr.post("dapr-order/start?instanceID=order-A-17", order) == {
        "instanceID": "order-A-17"
    }
    assert ProcessInstance.objects.filter(definition__key="dapr-order").count() == 1

    # The worker validates it; then it waits for the payment.
    wait_for(lambda: dapr.variables("order-A-17").get("valid") is True, what="the order validated")
    state = dapr.get("order-A-17")
    assert list(state) == [
        "instanceID",
        "workflowName",
        "createdAt",
        "lastUpdatedAt",
        "runtimeStatus",
        "properties",
    ]
    assert state["instanceID"] == "order-A-17"
    assert state["workflowName"] == "dapr-order"
    assert state["runtimeStatus"] == "RUNNING"
    assert RFC3339_UTC.match(state["createdAt"]), state["createdAt"]
    assert RFC3339_UTC.match(state["lastUpdatedAt"]), state["lastUpdatedAt"]
    assert state["createdAt"] <= state["lastUpdatedAt"]
    properties = state["properties"]
    assert all(isinstance(value, str) for value in properties.values())
    assert json.loads(properties["dapr.workflow.input"]) == order
    assert properties["flowdesk.version"] == "1"
    assert properties["flowdesk.business_key"] == ""
    assert "dapr.workflow.output" not in properties

    # Paused, the payment is refused; resumed, it is delivered.
    assert dapr.post("order-A-17/pause") == {}
    assert dapr.status("order-A-17") == "SUSPENDED"
    refused = dapr.post("order-A-17/raiseEvent/payment-received", {"paid": 120}, expect=409)
    assert refused["errorCode"] == "ERR_RAISE_EVENT_WORKFLOW"
    assert refused["message"].startswith("error raising event on workflow 'order-A-17': ")
    assert dapr.post("order-A-17/resume") == {}
    assert dapr.status("order-A-17") == "RUNNING"

    assert dapr.post("order-A-17/raiseEvent/payment-received", {"paid": 120}) == {}
    wait_for(lambda: dapr.status("order-A-17") == "COMPLETED", what="the order completed")
    output = json.loads(dapr.get("order-A-17")["properties"]["dapr.workflow.output"])
    assert output["paid"] == 120
    assert output["payment_id"] == "PAY-A-17"

    # A completed order can be neither paused nor terminated.
    refused = dapr.post("order-A-17/pause", expect=409)
    assert refused["errorCode"] == "ERR_PAUSE_WORKFLOW"
    assert refused["message"] == (
        "error pausing workflow order-A-17: cannot suspend an instance that is completed"
    )
    assert dapr.post("order-A-17/terminate", expect=409)["errorCode"] == "ERR_TERMINATE_WORKFLOW"

    # Another order, started without an id (Flowdesk makes one, as Dapr does), is terminated
    # while it waits for its payment.
    second = dapr.post("dapr-order/start", {"order_id": "B-2", "total_amount": 5})["instanceID"]
    assert uuid.UUID(second)
    wait_for(lambda: dapr.variables(second).get("valid") is True, what="the second validated")
    assert dapr.post(f"{second}/terminate") == {}
    assert dapr.status(second) == "TERMINATED"
    assert dapr.post(f"{second}/resume", expect=409)["errorCode"] == "ERR_RESUME_WORKFLOW"
