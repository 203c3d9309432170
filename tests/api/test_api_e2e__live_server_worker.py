"""End to end over HTTP: a live server, a real worker, and only the API's own routes."""

import pytest
import requests

from tests.api.support import PASSWORD
from tests.support.seeds import SEED_000_YAML
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

EXPENSE = {
    "name": "expense",
    "description": "Large expenses need an approver; then the requester is told",
    "version": "1.0.0",
    "config": {
        "variables": {"amount": "number"},
        "steps": [
            {
                "id": "check",
                "type": "exclusive_gateway",
                "config": {
                    "conditions": [{"expression": "${amount > 1000}", "next": "approve"}],
                    "default": "notify",
                },
            },
            {
                "id": "approve",
                "type": "user_task",
                "config": {"candidate_groups": ["approvers"], "form": {"approved": "boolean"}},
                "next": ["notify"],
            },
            {
                "id": "notify",
                "type": "service_task",
                "config": {"service_name": "test", "method": "echo"},
                "next": ["done"],
            },
            {"id": "done", "type": "end"},
        ],
    },
}


class Api:
    """A logged-in HTTP client of one live server."""

    def __init__(self, base: str, username: str) -> None:
        self.base = f"{base}/api/v1"
        self.http = requests.Session()
        login = self.http.post(
            f"{self.base}/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        answer = self.http.request(method, f"{self.base}/{path}", timeout=10, **kwargs)
        assert answer.status_code == expect, answer.text
        return answer.json()

    def completed(self, instance_id: str) -> bool:
        return self.call("GET", f"process-instances/{instance_id}")["status"] == "completed"


def test_e2e__seed_000_yaml_then_an_approval_run_to_completion(live_server, worker, people):
    maria = Api(live_server.url, "maria")
    maria.call(
        "POST",
        "process-definitions",
        201,
        data=SEED_000_YAML,
        headers={"Content-Type": "application/yaml"},
    )
    order = maria.call(
        "POST",
        "process-instances",
        201,
        json={
            "process_definition_key": "order-processing-workflow",
            "business_key": "ORDER-001",
            "variables": {"order_id": "ORDER-001", "amount": 999.99},
        },
    )
    wait_for(lambda: maria.completed(order["id"]), what="the seed 000 instance")

    definition = maria.call("POST", "process-definitions", 201, json=EXPENSE)
    expense = maria.call(
        "POST",
        "process-instances",
        201,
        json={"process_definition_id": definition["id"], "variables": {"amount": 5000}},
    )
    assert expense["current_steps"] == ["approve"]

    bob = Api(live_server.url, "bob")
    inbox = bob.call("GET", "tasks", params={"candidate_user": "current_user"})
    [task] = [t for t in inbox["results"] if t["process_instance_id"] == expense["id"]]
    assert bob.call("PUT", f"tasks/{task['id']}/claim")["assignee"] == "bob"
    done = bob.call("PUT", f"tasks/{task['id']}/complete", json={"variables": {"approved": True}})
    assert done["state"] == "completed"

    wait_for(lambda: maria.completed(expense["id"]), what="the approved expense")
    history = maria.call("GET", f"process-instances/{expense['id']}/history", params={"size": 100})
    assert [(e["type"], e["step_id"]) for e in history["results"]] == [
        ("WORKFLOW_STARTED", ""),
        ("GATEWAY_EVALUATED", "check"),
        ("TASK_SCHEDULED", "approve"),
        ("TASK_CLAIMED", "approve"),
        ("TASK_COMPLETED", "approve"),
        ("TASK_SCHEDULED", "notify"),
        ("TASK_COMPLETED", "notify"),
        ("WORKFLOW_COMPLETED", ""),
    ]
    assert bob.call("GET", f"process-instances/{expense['id']}")["variables"]["approved"] is True
