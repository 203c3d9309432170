"""Starting instances (idempotent with an id), reading and filtering them, controls, history."""

from datetime import timedelta

import pytest
from django.utils import timezone
from guardian.shortcuts import remove_perm

from processes.models import ProcessInstance
from processes.services import instance_start
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs

INSTANCES = "/api/v1/process-instances"

pytestmark = pytest.mark.django_db


def start(client, **body):
    return client.post(INSTANCES, {"process_definition_key": "approval", **body}, format="json")


def test_start__by_key_201_with_status_current_steps_and_open_tasks(api, approval):
    answer = start(api("ann"), business_key="EXP-1", variables={"amount": 5000})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["business_key"], body["started_by"]) == ("running", "EXP-1", "ann")
    assert (body["process_definition_key"], body["version"]) == ("approval", 1)
    assert body["variables"] == {"amount": 5000}
    assert body["current_steps"] == ["approve"]
    [task] = body["open_tasks"]
    assert (task["name"], task["state"], task["candidate_groups"]) == (
        "Approve the amount",
        "open",
        ["approvers"],
    )


def test_start__by_definition_id(api, approval):
    body = {"process_definition_id": approval.pk, "variables": {"amount": 10}}
    answer = api("bob").post(INSTANCES, body, format="json")
    assert answer.status_code == 201
    assert answer.json()["status"] == "completed"  # 10 takes the gateway's default to the end


def test_start__the_same_id_again_answers_200_with_the_same_instance(api, approval):
    client = api("ann")
    first = start(client, id="EXP-42", variables={"amount": 5000})
    again = start(client, id="EXP-42", variables={"amount": 7})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == "EXP-42" and again.json()["variables"] == {"amount": 5000}
    assert ProcessInstance.objects.count() == 1


def test_start__an_id_taken_by_someone_elses_instance_is_409_and_shows_nothing(api, approval):
    start(api("ann"), id="EXP-43", variables={"amount": 1})  # no task: only ann sees it
    taken = start(api("bob"), id="EXP-43", variables={"amount": 1})
    assert taken.status_code == 409
    assert set(taken.json()) == {"detail"}
    assert start(api("eve"), id="EXP-43").status_code == 404  # eve may not start approval


def test_start__a_variable_of_the_wrong_type_is_400_naming_it(api, approval):
    answer = start(api("ann"), variables={"amount": "lots", "requester": 7})
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"amount", "requester"}
    assert "amount" in answer.json()["detail"]
    assert ProcessInstance.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"process_definition_key": "approval", "process_definition_id": 1},
        {"process_definition_key": "approval", "id": "has space"},
        {"process_definition_key": "approval", "variables": [1, 2]},
        {"process_definition_key": "approval", "business_key": "x" * 201},
    ],
)
def test_start__malformed_bodies_are_400(api, approval, body):
    answer = api("ann").post(INSTANCES, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]


def test_start__an_unknown_definition_is_404_a_forbidden_one_403_saying_why(api, people, approval):
    assert start(api("ann"), process_definition_key="nope").status_code == 404
    assert start(api("eve")).status_code == 404  # eve does not know the process
    assert start(api("ann"), variables={"amount": 1}).status_code == 201
    remove_perm("processes.start_processdefinition", people["ann"], approval)
    refused = start(api("ann"))  # ann has a case of it, so she is told why
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "may not start" in detail and "ask a manager" in detail


def test_detail__only_the_starter_task_holders_and_managers_see_an_instance(api, approval):
    instance_id = start(api("ann"), variables={"amount": 5000}).json()["id"]
    for name in ("ann", "bob", "maria", "root"):
        assert api(name).get(f"{INSTANCES}/{instance_id}").status_code == 200, name
    assert api("eve").get(f"{INSTANCES}/{instance_id}").status_code == 404
    for bad_id in ("no-such-instance", "x" * 65, "a%00b"):
        assert api("maria").get(f"{INSTANCES}/{bad_id}").status_code == 404


def test_list__filters(api, people, approval):
    ann, bob = api("ann"), api("bob")
    start(ann, business_key="A-1", variables={"amount": 5000})
    start(ann, business_key="A-2", variables={"amount": 1})
    start(bob, business_key="B-1", variables={"amount": 1})
    manager = api("maria")

    def keys(client, **query):
        answer = client.get(INSTANCES, query)
        assert answer.status_code == 200, answer.json()
        return sorted(i["business_key"] for i in answer.json()["results"])

    assert keys(manager) == ["A-1", "A-2", "B-1"]
    assert keys(ann) == ["A-1", "A-2"]
    assert keys(manager, status="completed") == ["A-2", "B-1"]
    assert keys(manager, business_key="B-1") == ["B-1"]
    assert keys(manager, process_definition_key="approval", started_by="ann") == ["A-1", "A-2"]
    assert keys(bob, started_by="current_user") == ["B-1"]
    hour = timedelta(hours=1)
    assert keys(manager, created_after=(timezone.now() - hour).isoformat()) == ["A-1", "A-2", "B-1"]
    assert keys(manager, created_before=(timezone.now() - hour).isoformat()) == []
    assert manager.get(INSTANCES, {"status": "sleeping"}).status_code == 400


def test_controls__managers_suspend_activate_terminate(api, approval):
    instance_id = start(api("ann"), variables={"amount": 5000}).json()["id"]
    manager = api("maria")
    assert manager.put(f"{INSTANCES}/{instance_id}/suspend").json()["status"] == "suspended"
    assert manager.put(f"{INSTANCES}/{instance_id}/suspend").status_code == 409
    assert manager.put(f"{INSTANCES}/{instance_id}/activate").json()["status"] == "running"
    terminated = manager.delete(f"{INSTANCES}/{instance_id}")
    assert terminated.status_code == 200
    assert (terminated.json()["status"], terminated.json()["open_tasks"]) == ("cancelled", [])
    assert ProcessInstance.objects.get(pk=instance_id).status == "cancelled"


def test_controls__the_starter_may_see_but_not_control_others_get_404(api, approval):
    instance_id = start(api("ann"), variables={"amount": 5000}).json()["id"]
    for control in ("suspend", "activate", "retry"):
        refused = api("ann").put(f"{INSTANCES}/{instance_id}/{control}")
        assert refused.status_code == 403
        assert "manager" in refused.json()["detail"]
        assert api("eve").put(f"{INSTANCES}/{instance_id}/{control}").status_code == 404
    assert api("ann").delete(f"{INSTANCES}/{instance_id}").status_code == 403
    assert api("eve").delete(f"{INSTANCES}/{instance_id}").status_code == 404


def test_retry__a_failed_instance_runs_its_failed_step_again(api, approval):
    publish("fails", [service_step("boom", "test.raise")])
    instance = instance_start(definition_key="fails")
    run_due_jobs()
    manager = api("maria")
    assert manager.get(f"{INSTANCES}/{instance.pk}").json()["status"] == "failed"
    retried = manager.put(f"{INSTANCES}/{instance.pk}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "running"
    assert manager.put(f"{INSTANCES}/{instance.pk}/retry").status_code == 409


def test_history__the_event_log_in_order_paginated(api, approval):
    instance_id = start(api("ann"), variables={"amount": 5000}).json()["id"]
    api("maria").put(f"{INSTANCES}/{instance_id}/suspend")
    history = api("ann").get(f"{INSTANCES}/{instance_id}/history", {"size": 2}).json()
    assert history["count"] == 4
    assert [e["type"] for e in history["results"]] == ["WORKFLOW_STARTED", "GATEWAY_EVALUATED"]
    rest = api("ann").get(f"{INSTANCES}/{instance_id}/history", {"page": 2, "size": 2}).json()
    assert [(e["type"], e["actor"]) for e in rest["results"]] == [
        ("TASK_SCHEDULED", None),  # the engine opened the task: nobody did
        ("WORKFLOW_SUSPENDED", "maria"),
    ]
    assert api("eve").get(f"{INSTANCES}/{instance_id}/history").status_code == 404
