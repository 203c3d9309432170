"""`POST /api/v1/messages`, `/api/v1/signals` and `/process-instances/{id}/events/{name}`:
delivered, buffered (202), refused with a clear 4xx; managers only; an instance the caller
may not see answers 404."""

import json

import pytest

from processes.models import ProcessInstance, Subscription
from processes.services import definition_publish, instance_start

WAITING = {
    "name": "payments",
    "steps": [
        {
            "id": "wait",
            "type": "message_catch",
            "config": {"message": "paid", "correlation_key": "${order_id}"},
            "next": ["signal"],
        },
        {"id": "signal", "type": "signal_catch", "config": {"signal": "closed"}, "next": ["e"]},
        {"id": "e", "type": "end"},
    ],
}


@pytest.fixture
def waiting(people):
    definition_publish(source=json.dumps(WAITING), format="json")
    return instance_start(definition_key="payments", variables={"order_id": "A-1"})


@pytest.mark.django_db
def test_message__delivered_then_signal_reaches_it(api, waiting):
    answer = api("maria").post(
        "/api/v1/messages",
        {"name": "paid", "correlation_key": "A-1", "variables": {"paid": 3}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"outcome": "delivered", "instance_id": waiting.pk, "message_id": None}
    answer = api("maria").post("/api/v1/signals", {"name": "closed"}, format="json")
    assert answer.json() == {"reached": 1}
    instance = ProcessInstance.objects.get(pk=waiting.pk)
    assert (instance.status, instance.variables["paid"]) == ("completed", 3)


@pytest.mark.django_db
def test_message__no_match_is_404_and_with_ttl_is_kept_202(api, waiting):
    answer = api("maria").post(
        "/api/v1/messages", {"name": "paid", "correlation_key": "B"}, format="json"
    )
    assert answer.status_code == 404
    assert "no instance waits for message 'paid'" in json.dumps(answer.json())
    answer = api("maria").post(
        "/api/v1/messages",
        {"name": "paid", "correlation_key": "B", "ttl_seconds": 30},
        format="json",
    )
    assert answer.status_code == 202
    assert answer.json()["outcome"] == "buffered"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": "paid", "variables": [1]}, "variables"),
        ({"name": "paid", "ttl_seconds": -5}, "ttl_seconds"),
        ({"name": "x" * 300}, "name"),
    ],
)
def test_message__bad_body_is_400_naming_the_field(api, waiting, body, field):
    answer = api("maria").post("/api/v1/messages", body, format="json")
    assert answer.status_code == 400
    assert field in json.dumps(answer.json())


@pytest.mark.django_db
def test_message__a_user_without_control_rights_gets_403(api, waiting):
    answer = api("ann").post(
        "/api/v1/messages", {"name": "paid", "correlation_key": "A-1"}, format="json"
    )
    assert answer.status_code == 403
    assert Subscription.objects.get(step_id="wait").status == "waiting"


@pytest.mark.django_db
def test_raise_event__on_an_instance_delivers_and_answers_the_instance(api, waiting):
    answer = api("maria").post(
        f"/api/v1/process-instances/{waiting.pk}/events/paid",
        {"payload": {"paid": 9}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["variables"]["paid"] == 9
    assert answer.json()["current_steps"] == ["signal"]


@pytest.mark.django_db
def test_raise_event__unknown_event_404_and_invisible_instance_404(api, waiting):
    answer = api("maria").post(
        f"/api/v1/process-instances/{waiting.pk}/events/nope", {}, format="json"
    )
    assert answer.status_code == 404
    assert "waits for: paid" in json.dumps(answer.json())
    answer = api("eve").post(
        f"/api/v1/process-instances/{waiting.pk}/events/paid", {}, format="json"
    )
    assert answer.status_code == 404
    answer = api("maria").post("/api/v1/process-instances/no-such/events/paid", {}, format="json")
    assert answer.status_code == 404
