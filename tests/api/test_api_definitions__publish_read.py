"""Publishing definitions in every body form, reading versions, and who may see which."""

import json

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from processes.models import DefinitionVersion, ProcessDefinition
from tests.api.support import APPROVAL
from tests.support.seeds import SEED_000_YAML

DEFINITIONS = "/api/v1/process-definitions"

pytestmark = pytest.mark.django_db

ENVELOPE = {
    "name": "envelope-flow",
    "description": "the seed's envelope",
    "version": "1.0.0",
    "config": {
        "variables": {"amount": "number"},
        "steps": [
            {"id": "review", "type": "user_task", "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    },
}


def test_publish__the_seed_envelope_becomes_version_1_with_its_graph(api):
    answer = api("maria").post(DEFINITIONS, ENVELOPE, format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["key"], body["version"], body["version_label"]) == ("envelope-flow", 1, "1.0.0")
    assert (body["format"], body["published_by"]) == ("json", "maria")
    assert body["description"] == "the seed's envelope"
    assert set(body["graph"]["nodes"]) == {"review", "end"}
    assert json.loads(body["source"])["steps"] == ENVELOPE["config"]["steps"]


def test_publish__the_same_source_again_is_the_same_version_a_change_is_the_next(api):
    client = api("maria")
    first = client.post(DEFINITIONS, ENVELOPE, format="json").json()
    again = client.post(DEFINITIONS, ENVELOPE, format="json").json()
    assert again["version"] == first["version"] == 1
    changed = {**ENVELOPE, "description": "second take"}
    assert client.post(DEFINITIONS, changed, format="json").json()["version"] == 2
    assert DefinitionVersion.objects.filter(definition__key="envelope-flow").count() == 2


def test_publish__a_whole_json_document_is_kept_as_the_text_sent(api):
    text = json.dumps(APPROVAL, indent=4)
    answer = api("maria").post(DEFINITIONS, text, content_type="application/json")
    assert answer.status_code == 201
    assert answer.json()["source"] == text


def test_publish__yaml_as_format_and_source_or_as_an_application_yaml_body(api):
    client = api("root")
    wrapped = client.post(DEFINITIONS, {"format": "yaml", "source": SEED_000_YAML}, format="json")
    assert wrapped.status_code == 201
    assert (wrapped.json()["key"], wrapped.json()["format"]) == (
        "order-processing-workflow",
        "yaml",
    )
    changed = SEED_000_YAML.replace("timeout: 30\n      end: true", "timeout: 60\n      end: true")
    raw = client.post(DEFINITIONS, changed, content_type="application/yaml")
    assert raw.status_code == 201
    assert (raw.json()["version"], raw.json()["source"]) == (2, changed)


def test_publish__every_problem_is_listed_with_path_step_and_line(api):
    broken = {
        "name": "broken",
        "steps": [{"id": "a", "type": "nonsense"}, {"id": "b", "type": "user_task", "next": ["x"]}],
    }
    answer = api("maria").post(
        DEFINITIONS, json.dumps(broken, indent=2), content_type="application/json"
    )
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert {(e["path"], e["step"]) for e in errors} >= {
        ("/steps/0/type", "a"),
        ("/steps/1/next/0", "b"),
    }
    assert all(isinstance(e["line"], int) and e["message"] for e in errors)
    assert "problems in the definition" in answer.json()["detail"]
    assert not ProcessDefinition.objects.filter(key="broken").exists()


def test_publish__problems_in_an_envelope_point_into_its_config(api):
    bad = {**ENVELOPE, "config": {"steps": [{"id": "a", "type": "nonsense"}]}}
    errors = api("maria").post(DEFINITIONS, bad, format="json").json()["errors"]
    assert [(e["path"], e["line"]) for e in errors] == [("/config/steps/0/type", None)]


def test_publish__yaml_problems_carry_their_line(api):
    source = SEED_000_YAML.replace('next: "check_inventory"', 'next: "nowhere"')
    answer = api("maria").post(DEFINITIONS, source, content_type="application/yaml")
    assert answer.status_code == 400
    [problem] = [e for e in answer.json()["errors"] if e["step"] == "validate_order"]
    assert source.splitlines()[problem["line"] - 1].strip() == 'next: "nowhere"'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "x", "steps": [', "application/json"),
        ('{"name": "x\\u0000", "steps": []}', "application/json"),
        ('{"name": "x", "n": 1e999, "steps": []}', "application/json"),
        ("[" * 100_000, "application/json"),
        ('{"format": "xml", "source": 7}', "application/json"),
        ('{"name": "x", "config": []}', "application/json"),
        ("kind: [unclosed", "application/yaml"),
    ],
)
def test_publish__malformed_bodies_are_400_never_500(api, body, content_type):
    answer = api("maria").post(DEFINITIONS, body, content_type=content_type)
    assert answer.status_code == 400
    assert answer.json()["detail"]


def test_publish__a_user_may_not_publish(api, people):
    answer = api("ann").post(DEFINITIONS, ENVELOPE, format="json")
    assert answer.status_code == 403
    assert "manager" in answer.json()["detail"]


def test_list__managers_see_all_users_the_ones_they_may_start(api, people, approval):
    client = api("maria")
    client.post(DEFINITIONS, ENVELOPE, format="json")
    assert [d["key"] for d in client.get(DEFINITIONS).json()["results"]] == [
        "approval",
        "envelope-flow",
    ]
    assert [d["key"] for d in api("ann").get(DEFINITIONS).json()["results"]] == ["approval"]
    assert api("eve").get(DEFINITIONS).json()["count"] == 0
    assign_perm(
        "processes.start_processdefinition",
        Group.objects.get(name="user"),
        ProcessDefinition.objects.get(key="envelope-flow"),
    )
    assert api("eve").get(DEFINITIONS).json()["count"] == 1


def test_list__filters_by_key_and_name_and_pages(api, approval):
    client = api("maria")
    for n in range(3):
        client.post(DEFINITIONS, {**ENVELOPE, "name": f"Flow {n}"}, format="json")
    by_key = client.get(DEFINITIONS, {"key": "Flow 1"}).json()
    assert [d["name"] for d in by_key["results"]] == ["Flow 1"]
    assert by_key["results"][0]["latest_version"] == 1
    assert client.get(DEFINITIONS, {"name": "flow"}).json()["count"] == 3
    page = client.get(DEFINITIONS, {"page": 2, "size": 3}).json()
    assert (page["count"], page["page"], page["size"], len(page["results"])) == (4, 2, 3, 1)
    past_the_end = client.get(DEFINITIONS, {"page": 99}).json()
    assert (past_the_end["count"], past_the_end["results"]) == (4, [])
    assert client.get(DEFINITIONS, {"size": 1000}).json()["size"] == 100
    refused = client.get(DEFINITIONS, {"page": 0, "size": "many"})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"page", "size"}


def test_detail__latest_or_asked_version_with_source_and_graph(api, approval):
    client = api("maria")
    client.post(DEFINITIONS, {**APPROVAL, "description": "v2"}, format="json")
    latest = client.get(f"{DEFINITIONS}/{approval.pk}").json()
    assert (latest["id"], latest["version"], latest["description"]) == (approval.pk, 2, "v2")
    assert latest["graph"]["start"] == "check"
    first = client.get(f"{DEFINITIONS}/{approval.pk}", {"version": 1}).json()
    assert json.loads(first["source"]) == APPROVAL
    assert client.get(f"{DEFINITIONS}/{approval.pk}", {"version": 3}).status_code == 404
    versions = client.get(f"{DEFINITIONS}/{approval.pk}/versions").json()
    assert [v["version"] for v in versions["results"]] == [2, 1]
    assert "source" not in versions["results"][0]


@pytest.mark.parametrize("definition_id", ["own", "12345678", "not-a-number", "9" * 30])
def test_detail__a_definition_you_may_not_start_or_that_does_not_exist_is_404(
    api, approval, definition_id
):
    path_id = approval.pk if definition_id == "own" else definition_id
    assert api("eve").get(f"{DEFINITIONS}/{path_id}").status_code == 404
    assert api("eve").get(f"{DEFINITIONS}/{path_id}/versions").status_code == 404
