"""The rollout routes: a manager rolls a version out, the versions list and the definition
show the split and the instances per version, a start may name its version, rollback; a
plain user may not roll out, and bad bodies say what is wrong."""

from __future__ import annotations

import json

import pytest

from processes.services import definition_publish
from tests.api.support import APPROVAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(approval):
    second = {**APPROVAL, "description": "The second version"}
    definition_publish(source=json.dumps(second), format="json")
    return approval


def versions_by_number(api, definition) -> dict[int, dict]:
    answer = api("maria").get(f"/api/v1/process-definitions/{definition.pk}/versions")
    assert answer.status_code == 200
    return {row["version"]: row for row in answer.json()["results"]}


def test_rollout__a_manager_splits_new_starts_and_the_lists_show_it(api, two_versions):
    url = f"/api/v1/process-definitions/{two_versions.pk}"
    answer = api("maria").post(f"{url}/rollouts", {"version": 2, "percent": 50}, format="json")
    assert answer.status_code == 201, answer.json()
    assert {k: answer.json()[k] for k in ("version", "previous_version", "percent", "status")} == {
        "version": 2,
        "previous_version": 1,
        "percent": 50,
        "status": "running",
    }
    started = [
        api("ann").post(
            "/api/v1/process-instances",
            {"process_definition_key": "approval", "variables": {"amount": 5000}},
            format="json",
        )
        for _ in range(40)
    ]
    counts = {1: 0, 2: 0}
    for answer in started:
        assert answer.status_code == 201
        counts[answer.json()["version"]] += 1
    assert counts[1] and counts[2]

    rows = versions_by_number(api, two_versions)
    assert (rows[1]["share_percent"], rows[2]["share_percent"]) == (50, 50)
    assert rows[1]["instances_running"] == counts[1] and rows[2]["instances_total"] == counts[2]
    detail = api("maria").get(url).json()
    assert detail["rollout"]["percent"] == 50 and detail["rollout"]["version"] == 2

    named = api("ann").post(
        "/api/v1/process-instances",
        {"process_definition_key": "approval", "version": 1, "variables": {"amount": 5}},
        format="json",
    )
    assert named.status_code == 201 and named.json()["version"] == 1

    back = api("maria").post(f"{url}/rollback")
    assert back.status_code == 200 and back.json()["status"] == "rolled_back"
    rows = versions_by_number(api, two_versions)
    assert (rows[1]["share_percent"], rows[2]["share_percent"]) == (100, 0)
    assert api("maria").get(url).json()["rollout"] is None
    history = api("maria").get(f"{url}/rollouts").json()
    assert [r["status"] for r in history] == ["rolled_back"]


def test_rollout__refusals_say_what_is_wrong(api, two_versions):
    url = f"/api/v1/process-definitions/{two_versions.pk}"
    assert api("ann").post(f"{url}/rollouts", {"version": 2, "percent": 5}).status_code == 403
    bad = api("maria").post(f"{url}/rollouts", {"version": 2, "percent": 101}, format="json")
    assert bad.status_code == 400 and "percent" in json.dumps(bad.json())
    missing = api("maria").post(f"{url}/rollouts", {"version": 9, "percent": 5}, format="json")
    assert missing.status_code == 404 and "no version 9" in json.dumps(missing.json())
    assert api("maria").post(f"{url}/rollback").status_code == 400
    assert api("eve").get(f"{url}/rollouts").status_code == 404
    unknown = api("ann").post(
        "/api/v1/process-instances",
        {"process_definition_key": "approval", "version": 7},
        format="json",
    )
    assert unknown.status_code == 404
