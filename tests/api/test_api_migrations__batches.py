"""The migration routes: a manager starts a batch (202) and reads its progress and each
instance's outcome; a plain user may not; bad bodies are 400s naming the field."""

from __future__ import annotations

import json

import pytest

from processes.services import definition_publish, instance_start
from processes.services.migration_batches import migration_batch_run
from tests.api.support import APPROVAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed(approval):
    """Two instances of the approval waiting at `approve`; version 2 calls it `review`."""
    instances = [
        instance_start(definition_key="approval", variables={"amount": 5000}).pk for _ in range(2)
    ]
    steps = json.loads(json.dumps(APPROVAL["steps"]).replace('"approve"', '"review"'))
    definition_publish(source=json.dumps({**APPROVAL, "steps": steps}), format="json")
    return approval, instances


def test_migrations__a_batch_moves_the_instances_and_shows_each_outcome(api, renamed):
    definition, instances = renamed
    url = f"/api/v1/process-definitions/{definition.pk}/migrations"
    body = {"from_version": 1, "to_version": 2, "mapping": {"approve": "review"}}
    answer = api("maria").post(url, body, format="json")
    assert answer.status_code == 202, answer.json()
    batch = answer.json()
    assert (batch["status"], batch["total"], batch["done"]) == ("pending", 2, 0)

    migration_batch_run(batch_id=batch["id"])  # what the worker's job does
    shown = api("maria").get(f"{url}/{batch['id']}").json()
    assert (shown["status"], shown["migrated"], shown["refused"]) == ("done", 2, 0)
    assert {o["instance_id"] for o in shown["outcomes"]} == set(instances)
    assert all(o["moves"] == {"approve": "review"} for o in shown["outcomes"])
    detail = api("maria").get(f"/api/v1/process-instances/{instances[0]}").json()
    assert detail["version"] == 2 and detail["current_steps"] == ["review"]


def test_migrations__a_dry_run_without_the_mapping_reports_the_unmapped_step(api, renamed):
    definition, instances = renamed
    url = f"/api/v1/process-definitions/{definition.pk}/migrations"
    body = {"from_version": 1, "to_version": 2, "instance_ids": instances[:1], "dry_run": True}
    batch = api("maria").post(url, body, format="json").json()
    migration_batch_run(batch_id=batch["id"])
    (outcome,) = api("maria").get(f"{url}/{batch['id']}").json()["outcomes"]
    assert outcome["ok"] is False and outcome["problems"][0]["step"] == "approve"
    detail = api("maria").get(f"/api/v1/process-instances/{instances[0]}").json()
    assert detail["version"] == 1


def test_migrations__refusals(api, renamed):
    definition, _ = renamed
    url = f"/api/v1/process-definitions/{definition.pk}/migrations"
    body = {"from_version": 1, "to_version": 2}
    assert api("ann").post(url, body, format="json").status_code == 403
    bad = api("maria").post(url, {"from_version": "one", "to_version": 2}, format="json")
    assert bad.status_code == 400 and "from_version" in json.dumps(bad.json())
    mapping = api("maria").post(url, {**body, "mapping": ["approve"]}, format="json")
    assert mapping.status_code == 400 and "mapping" in json.dumps(mapping.json())
    unknown = api("maria").post(url, {**body, "to_version": 9}, format="json")
    assert unknown.status_code == 404
    assert api("maria").get(f"{url}/12345").status_code == 404
    batch = api("maria").post(url, body, format="json").json()
    assert api("ann").get(f"{url}/{batch['id']}").status_code == 403
    assert api("eve").get(f"{url}/{batch['id']}").status_code == 404
