"""`POST /api/v1/messages`, `/api/v1/signals` and `/process-instances/{id}/events/{name}`:
delivered, buffered (202), refused with a clear 4xx; managers only; an instance the caller
may not see answers 404."""

import json

import pytest

from processes.models import Event, ProcessInstance, Subscription
from processes.services import definition_publish, instance_start
from processes.statuses import SubscriptionStatus
from tests.support.definitions import publish, service_step

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


@pytest.mark.django_db
def test_api__cancel_a_boundary_message(api, people):
    publish(
        "guarded",
        [
            service_step(
                "work",
                "test.slow",
                next=["end"],
                boundary=[{"type": "message", "message": "stop", "next": "end"}],
            ),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="guarded")
    wait = Subscription.objects.get(instance=instance)
    url = f"/api/v1/process-instances/{instance.pk}/subscriptions/{wait.pk}/cancel"
    assert api("maria").post(url, {}, format="json").status_code == 400
    answer = api("maria").post(url, {"reason": "not needed"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert Subscription.objects.get(pk=wait.pk).status == SubscriptionStatus.CANCELLED
    answer = api("maria").post(url, {"reason": "again"}, format="json")
    assert answer.status_code == 409
    other = f"/api/v1/process-instances/{instance.pk}/subscriptions/999999/cancel"
    assert api("maria").post(other, {"reason": "x"}, format="json").status_code == 404
    assert api("eve").post(url, {"reason": "x"}, format="json").status_code == 404
    assert "not needed" in json.dumps(
        list(Event.objects.filter(instance=instance).values_list("payload", flat=True))
    )
