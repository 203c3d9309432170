"""Input PostgreSQL cannot store, oversized bodies and variables, and declared variables:
each a 400 (or 413) naming what is wrong, with nothing written. Tracebacks for managers only."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from guardian.shortcuts import assign_perm

from processes.models import DefinitionVersion, ProcessDefinition, ProcessInstance
from processes.services import definition_publish
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db
INSTANCES = "/api/v1/process-instances"
LONE = '"\\ud800"'  # JSON text of a lone surrogate


def post_raw(client, url: str, text: str):
    return client.post(url, text, content_type="application/json")


def test_lone_surrogates__refused_naming_the_field(api, approval):
    bad_value = f'{{"process_definition_key": "approval", "variables": {{"requester": {LONE}}}}}'
    answer = post_raw(api("ann"), INSTANCES, bad_value)
    assert answer.status_code == 400
    assert "variables.requester" in answer.json()["detail"]
    assert "surrogate" in answer.json()["detail"]
    bad_key = f'{{"process_definition_key": "approval", "variables": {{{LONE}: 1}}}}'
    assert "surrogate" in post_raw(api("ann"), INSTANCES, bad_key).json()["detail"]
    document = f'{{"name": "s", "description": {LONE}, "steps": [{{"id": "e", "type": "end"}}]}}'
    published = post_raw(api("maria"), "/api/v1/process-definitions", document)
    assert published.status_code == 400 and "surrogate" in json.dumps(published.json())
    assert ProcessInstance.objects.count() == 0
    assert not ProcessDefinition.objects.filter(key="s").exists()


def test_lone_surrogates__on_task_completion(api, approval):
    instance_id = (
        api("ann")
        .post(
            INSTANCES,
            {"process_definition_key": "approval", "variables": {"amount": 5000}},
            format="json",
        )
        .json()["id"]
    )
    task_id = api("bob").get("/api/v1/tasks", {"process_instance_id": instance_id}).json()
    task_id = task_id["results"][0]["id"]
    assert api("bob").put(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    body = f'{{"variables": {{"approved": true, "comments": {LONE}}}}}'
    answer = api("bob").put(
        f"/api/v1/tasks/{task_id}/complete", body, content_type="application/json"
    )
    assert answer.status_code == 400 and "variables.comments" in answer.json()["detail"]


def test_oversized_body__413_in_the_json_error_shape(api, approval):
    body = json.dumps({"process_definition_key": "approval", "variables": {"x": "y" * 3_000_000}})
    answer = post_raw(api("ann"), INSTANCES, body)
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert "larger than" in answer.json()["detail"]


@override_settings(FLOWDESK_ENGINE={"MAX_VARIABLES_BYTES": 1000})
def test_variables_over_the_size_limit__400(api, approval):
    answer = api("ann").post(
        INSTANCES,
        {"process_definition_key": "approval", "variables": {"requester": "z" * 2000}},
        format="json",
    )
    assert answer.status_code == 400
    assert "FLOWDESK_MAX_VARIABLES_BYTES" in answer.json()["detail"]
    assert ProcessInstance.objects.count() == 0


DECLARED = {
    "name": "declared",
    "strict_variables": True,
    "variables": {
        "amount": {"type": "money", "currency": "EUR", "required": True, "label": "Amount"},
        "reason": {"type": "string", "required": True},
        "urgent": {"type": "boolean", "default": False},
    },
    "steps": [{"id": "u", "type": "user_task", "config": {"candidate_groups": ["approvers"]}}],
}


@pytest.fixture
def declared(people):
    version = definition_publish(source=json.dumps(DECLARED), format="json")
    assign_perm("processes.start_processdefinition", people["ann"], version.definition)
    return version


def test_declared__missing_wrong_and_undeclared_named_at_once(api, declared):
    body = {"process_definition_key": "declared", "variables": {"amount": "lots", "amuont": 5}}
    answer = api("ann").post(INSTANCES, body, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"amount", "amuont"}
    missing = api("ann").post(INSTANCES, {"process_definition_key": "declared"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"amount", "reason"}
    assert ProcessInstance.objects.count() == 0
    ok = api("ann").post(
        INSTANCES,
        {"process_definition_key": "declared", "variables": {"amount": 12.5, "reason": "x"}},
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["variables"] == {"amount": 12.5, "reason": "x", "urgent": False}


def test_declared__old_stored_graphs_still_load(declared):
    stored = DefinitionVersion.objects.get(pk=declared.pk).graph
    assert ["urgent", {"type": "boolean", "default": False}] in stored["variables"]


def test_start_page__empty_form_names_the_required_fields(client, people, declared):
    client.force_login(people["ann"])
    page = client.get("/start/declared/")
    assert 'name="var-amount"' in page.content.decode() and "(EUR)" in page.content.decode()
    refused = client.post("/start/declared/", {"business_key": ""})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.count("This field is required") == 2
    assert ProcessInstance.objects.count() == 0
    started = client.post("/start/declared/", {"var-amount": "1,250.50", "var-reason": "trip"})
    assert started.status_code == 302
    assert ProcessInstance.objects.get().variables["amount"] == 1250.5


FAILING = {
    "name": "failing",
    "steps": [
        {
            "id": "charge",
            "type": "service_task",
            "config": {"service_name": "test", "method": "raise"},
            "next": [],
        },
    ],
}


def test_traceback__managers_only(api, people):
    version = definition_publish(source=json.dumps(FAILING), format="json")
    assign_perm("processes.start_processdefinition", people["ann"], version.definition)
    instance_id = (
        api("ann")
        .post(INSTANCES, {"process_definition_key": "failing"}, format="json")
        .json()["id"]
    )
    run_due_jobs()
    mine = api("ann").get(f"{INSTANCES}/{instance_id}").json()["error"]
    assert mine["error"] and mine["message"] and "traceback" not in mine
    full = api("maria").get(f"{INSTANCES}/{instance_id}").json()["error"]
    assert "Traceback" in full["traceback"]
    listed = api("ann").get(INSTANCES).json()["results"][0]["error"]
    assert "traceback" not in listed


def test_declared__the_api_answers_every_declaration_as_an_object(api, declared, approval):
    for definition_id in (declared.definition_id, approval.pk):
        graph = api("maria").get(f"/api/v1/process-definitions/{definition_id}").json()["graph"]
        assert all(isinstance(spec, dict) and "type" in spec for _, spec in graph["variables"])
    graph = api("maria").get(f"/api/v1/process-definitions/{approval.pk}").json()["graph"]
    assert graph["variables"] == [["amount", {"type": "number"}], ["requester", {"type": "string"}]]
