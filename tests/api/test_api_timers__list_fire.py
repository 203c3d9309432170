"""An instance's timers in the API, and firing one now: `POST /api/v1/process-instances/{id}/
timers/{timer_id}/fire` with `{"reason": ...}`, with the rules of the instance controls."""

import json

import pytest
from guardian.shortcuts import assign_perm

from processes.models import Event, Timer
from processes.services import definition_publish, instance_start, instance_suspend

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/process-instances"
ESCALATED = {
    "name": "escalated",
    "steps": [
        {
            "id": "approve",
            "type": "user_task",
            "config": {
                "candidate_groups": ["approvers"],
                "boundary": [
                    {"type": "timer", "duration": "5d", "next": "lead"},
                    {
                        "type": "timer",
                        "duration": "1d",
                        "interrupting": False,
                        "repeat": 3,
                        "next": "remind",
                    },
                ],
            },
            "next": ["done"],
        },
        {"id": "lead", "type": "user_task", "config": {"candidate_groups": ["leads"]}},
        {"id": "remind", "type": "end"},
        {"id": "done", "type": "end"},
    ],
}


@pytest.fixture
def escalated(people):
    version = definition_publish(source=json.dumps(ESCALATED), format="json")
    assign_perm("processes.start_processdefinition", people["ann"], version.definition)
    return instance_start(definition_key="escalated", user=people["ann"])


def fire_url(instance, timer_id) -> str:
    return f"{INSTANCES}/{instance.pk}/timers/{timer_id}/fire"


def test_detail__lists_the_timers_with_their_boundary_event(api, escalated):
    body = api("ann").get(f"{INSTANCES}/{escalated.pk}").json()
    escalation, reminder = Timer.objects.filter(instance=escalated).order_by("id")
    assert body["timers"] == [
        {
            "id": escalation.pk,
            "step": "approve",
            "boundary": {"index": 0, "interrupting": True, "next": "lead"},
            "due_at": escalation.due_at.isoformat().replace("+00:00", "Z"),
            "status": "scheduled",
            "fired_at": None,
        },
        {
            "id": reminder.pk,
            "step": "approve",
            "boundary": {"index": 1, "interrupting": False, "next": "remind"},
            "due_at": reminder.due_at.isoformat().replace("+00:00", "Z"),
            "status": "scheduled",
            "fired_at": None,
        },
    ]


def test_fire__a_manager_escalates_with_a_reason(api, escalated):
    escalation = Timer.objects.filter(instance=escalated).order_by("id").first()
    answer = api("maria").post(
        fire_url(escalated, escalation.pk), {"reason": "approvers away"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["current_steps"] == ["lead"]
    assert [t["status"] for t in body["timers"]] == ["fired", "cancelled"]
    event = Event.objects.get(instance=escalated, type="TIMER_FIRED")
    assert (event.actor.username, event.payload["by"], event.payload["reason"]) == (
        "maria",
        "maria",
        "approvers away",
    )


def test_fire__refusals_answer_404_403_400_409(api, escalated):
    escalation = Timer.objects.filter(instance=escalated).order_by("id").first()
    url = fire_url(escalated, escalation.pk)
    reason = {"reason": "x"}
    # Who may not see the instance learns nothing: 404, even with no reason.
    assert api("eve").post(url, {}, format="json").status_code == 404
    # Who sees it (ann started it) but may not control it: 403.
    refused = api("ann").post(url, reason, format="json")
    assert refused.status_code == 403 and "managers and admins" in refused.json()["detail"]
    maria = api("maria")
    for missing in ({}, {"reason": "   "}, {"reason": 5}, [1]):
        bad = maria.post(url, missing, format="json")
        assert bad.status_code == 400, missing
        assert list(bad.json()["errors"]) == ["reason"]
    for timer_id in (escalation.pk + 1000, "abc", "9" * 30):
        assert maria.post(fire_url(escalated, timer_id), reason, format="json").status_code == 404
    other = instance_start(definition_key="escalated")
    assert maria.post(fire_url(other, escalation.pk), reason, format="json").status_code == 404

    instance_suspend(instance=other)
    other_timer = Timer.objects.filter(instance=other).first()
    suspended = maria.post(fire_url(other, other_timer.pk), reason, format="json")
    assert suspended.status_code == 409 and "resume it" in suspended.json()["detail"]
    assert maria.post(url, reason, format="json").status_code == 200
    again = maria.post(url, reason, format="json")
    assert again.status_code == 409 and "fired already" in again.json()["detail"]


def test_schema__documents_the_route_and_the_timers(api):
    schema = api("maria").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/process-instances/{instance_id}/timers/{timer_id}/fire"][
        "post"
    ]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "409"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema["components"]["schemas"][body.rsplit("/", 1)[1]]["required"] == ["reason"]
    detail = schema["components"]["schemas"]["InstanceDetail"]["properties"]
    assert "timers" in detail


def test_interrupting_timer__the_task_leaves_the_approvers_api_lists(api, escalated):
    from processes.services.timers import timers_fire_due

    def approve_task_ids(name):
        answer = api(name).get("/api/v1/tasks?candidate_user=current_user&state=open")
        assert answer.status_code == 200
        return [t["id"] for t in answer.json()["results"] if t["step_id"] == "approve"]

    before = approve_task_ids("bob")
    assert len(before) == 1
    escalation = Timer.objects.filter(instance=escalated).order_by("id").first()
    Timer.objects.filter(pk=escalation.pk).update(due_at=escalation.created_at)
    assert timers_fire_due() == 1
    assert approve_task_ids("bob") == []
    detail = api("bob").get(f"/api/v1/tasks/{before[0]}")
    assert (detail.status_code, detail.json().get("state")) == (200, "cancelled"), detail.json()
