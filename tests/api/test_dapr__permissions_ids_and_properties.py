"""The Dapr routes act with the REST API's rights, and GET tells what Dapr's properties tell.

Who may start, see and control an instance is decided by the same services; a refusal keeps
the operation's Dapr code with the REST API's status. A reused id is idempotent for its own
workflow and "taken" otherwise. A failed instance's properties carry Dapr's failure keys.
"""

from __future__ import annotations

import json

import pytest
from guardian.shortcuts import assign_perm

from processes.models import ProcessInstance
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db

BASE = "/v1.0/workflows/flowdesk"


def start(client, workflow: str, instance_id: str | None = None, body: dict | None = None):
    query = f"?instanceID={instance_id}" if instance_id else ""
    return client.post(
        f"{BASE}/{workflow}/start{query}",
        data=json.dumps(body or {}),
        content_type="application/json",
    )


def test_dapr__starting_needs_the_right_to_start_as_in_the_api(api, approval):
    assert start(api("ann"), "approval", "ann-1", {"amount": 50}).status_code == 202
    refused = start(api("eve"), "approval", "eve-1")
    # eve may not start it and has no case of it: the process is unknown to her.
    assert refused.status_code == 404
    assert refused.json() == {
        "errorCode": "ERR_START_WORKFLOW",
        "message": "error starting workflow 'approval': no process definition 'approval'",
    }
    assert list(ProcessInstance.objects.values_list("pk", flat=True)) == ["ann-1"]


def test_dapr__a_starter_sees_her_instance_but_only_managers_control_it(api, approval):
    start(api("ann"), "approval", "ann-2", {"amount": 5000})
    assert api("ann").get(f"{BASE}/ann-2").json()["runtimeStatus"] == "RUNNING"
    assert api("eve").get(f"{BASE}/ann-2").json()["errorCode"] == "ERR_INSTANCE_ID_NOT_FOUND"
    for route, code, verb in (
        ("pause", "ERR_PAUSE_WORKFLOW", "suspend"),
        ("terminate", "ERR_TERMINATE_WORKFLOW", "terminate"),
    ):
        answer = api("ann").post(f"{BASE}/ann-2/{route}")
        assert answer.status_code == 403
        assert answer.json()["errorCode"] == code
        assert answer.json()["message"].endswith(f"only managers and admins may {verb} a process")
    answer = api("ann").post(f"{BASE}/ann-2/raiseEvent/paid")
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "ERR_RAISE_EVENT_WORKFLOW"
    assert ProcessInstance.objects.get(pk="ann-2").status == "running"


def test_dapr__a_reused_id_is_idempotent_for_its_workflow_and_taken_otherwise(
    api, approval, people
):
    assert start(api("ann"), "approval", "case-9", {"amount": 50}).json() == {
        "instanceID": "case-9"
    }
    again = start(api("ann"), "approval", "case-9", {"amount": 7})
    assert (again.status_code, again.json()) == (202, {"instanceID": "case-9"})
    assert ProcessInstance.objects.get(pk="case-9").variables["amount"] == 50

    # bob may start approvals, but ann's instance is not his to see: the id is taken.
    taken = start(api("bob"), "approval", "case-9")
    assert taken.status_code == 409
    assert taken.json() == {
        "errorCode": "ERR_START_WORKFLOW",
        "message": "error starting workflow 'approval': the instance id 'case-9' is taken",
    }
    # The id of another workflow's instance is taken too, even for a manager.
    publish("other", [{"id": "done", "type": "end"}])
    taken = start(api("maria"), "other", "case-9")
    assert taken.status_code == 409
    assert taken.json()["message"].endswith("the instance id 'case-9' is taken")
    assert ProcessInstance.objects.count() == 1


def test_dapr__an_event_nobody_waits_for_is_a_refused_raise_event(api, approval):
    start(api("ann"), "approval", "ann-3", {"amount": 5000})
    answer = api("maria").post(
        f"{BASE}/ann-3/raiseEvent/paid", data='{"x": 1}', content_type="application/json"
    )
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "ERR_RAISE_EVENT_WORKFLOW"
    assert answer.json()["message"] == (
        "error raising event on workflow 'ann-3': instance ann-3 does not wait for event "
        "'paid' (it waits for no event)"
    )


def test_dapr__a_failed_instance_shows_dapr_failure_properties(api, people):
    version = publish(
        "fragile",
        [
            service_step(
                "boom",
                "test.raise",
                next=["done"],
                input={"error": "OutOfStock", "message": "no parcels left"},
                retry_policy={"max_attempts": 1},
            ),
            {"id": "done", "type": "end"},
        ],
    )
    assign_perm("processes.start_processdefinition", people["ann"], version.definition)
    start(api("ann"), "fragile", "fragile-1", {"order_id": "C-3"})
    run_due_jobs()

    state = api("ann").get(f"{BASE}/fragile-1").json()
    assert state["runtimeStatus"] == "FAILED"
    properties = state["properties"]
    assert properties["dapr.workflow.failure.error_type"] == "OutOfStock"
    assert properties["dapr.workflow.failure.error_message"] == "no parcels left"
    assert json.loads(properties["dapr.workflow.input"]) == {"order_id": "C-3"}
    # A failed workflow has no output; the traceback is for managers and admins only.
    assert "dapr.workflow.output" not in properties
    assert "dapr.workflow.failure.stack_trace" not in properties
    managers = api("maria").get(f"{BASE}/fragile-1").json()["properties"]
    assert "OutOfStock" in managers["dapr.workflow.failure.stack_trace"]


def test_dapr__terminated_and_suspended_are_dapr_statuses(api, approval):
    start(api("ann"), "approval", "ann-4", {"amount": 5000})
    maria = api("maria")
    assert maria.post(f"{BASE}/ann-4/pause").status_code == 202
    assert maria.get(f"{BASE}/ann-4").json()["runtimeStatus"] == "SUSPENDED"
    assert maria.post(f"{BASE}/ann-4/pause").json()["errorCode"] == "ERR_PAUSE_WORKFLOW"
    answer = maria.post(f"{BASE}/ann-4/terminate")
    assert (answer.status_code, answer.json()) == (202, {})
    assert maria.get(f"{BASE}/ann-4").json()["runtimeStatus"] == "TERMINATED"


def test_dapr__purge_deletes_a_finished_instance_and_refuses_a_running_one(api, approval):
    start(api("ann"), "approval", "ann-5", {"amount": 5000})
    maria = api("maria")
    running = maria.post(f"{BASE}/ann-5/purge")
    assert running.status_code == 409
    assert running.json()["errorCode"] == "ERR_PURGE_WORKFLOW"
    assert ProcessInstance.objects.filter(pk="ann-5").exists()
    assert maria.post(f"{BASE}/ann-5/terminate").status_code == 202
    assert api("ann").post(f"{BASE}/ann-5/purge").status_code == 403
    answer = maria.post(f"{BASE}/ann-5/purge")
    assert (answer.status_code, answer.json()) == (202, {})
    assert not ProcessInstance.objects.filter(pk="ann-5").exists()
    gone = maria.get(f"{BASE}/ann-5")
    assert (gone.status_code, gone.json()["errorCode"]) == (404, "ERR_INSTANCE_ID_NOT_FOUND")
