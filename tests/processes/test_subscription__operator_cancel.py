"""An operator stops one wait (a boundary message, one event of a deferred choice), saying
why; the last thing a step waits for cannot be cancelled (the API: tests/api)."""

import pytest

from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.models import Event, Subscription
from processes.services import instance_start
from processes.services.messages import subscription_cancel
from processes.statuses import SubscriptionStatus
from tests.support.definitions import publish

GATEWAY = [
    {"id": "choose", "type": "event_gateway", "next": ["paid", "closed"]},
    {"id": "paid", "type": "message_catch", "config": {"message": "paid"}, "next": ["end"]},
    {"id": "closed", "type": "signal_catch", "config": {"signal": "closed"}, "next": ["end"]},
    {"id": "end", "type": "end"},
]


def choosing():
    publish("choice", GATEWAY)
    instance = instance_start(definition_key="choice")
    return instance, {s.name: s for s in Subscription.objects.filter(instance=instance)}


@pytest.mark.django_db
def test_cancel__one_event_of_a_choice_with_the_reason_in_the_history(django_user_model):
    boss = django_user_model.objects.create_superuser("boss2", "b@example.com", "pw")
    instance, waits = choosing()
    subscription_cancel(subscription_id=waits["closed"].pk, reason="quarter skipped", user=boss)
    assert Subscription.objects.get(pk=waits["closed"].pk).status == SubscriptionStatus.CANCELLED
    event = Event.objects.get(instance=instance, type="SUBSCRIPTION_CANCELLED")
    assert (event.actor, event.payload["reason"]) == (boss, "quarter skipped")
    with pytest.raises(Conflict, match="waits for nothing but 'paid'"):
        subscription_cancel(subscription_id=waits["paid"].pk, reason="x", user=boss)
    with pytest.raises(Conflict, match="cancelled already"):
        subscription_cancel(subscription_id=waits["closed"].pk, reason="again", user=boss)


@pytest.mark.django_db
def test_cancel__needs_a_reason_rights_and_a_real_id(django_user_model):
    clerk = django_user_model.objects.create_user("clerk3", "c@example.com", "pw")
    instance, waits = choosing()
    with pytest.raises(InvalidInput, match="reason"):
        subscription_cancel(subscription_id=waits["paid"].pk, reason="  ")
    with pytest.raises(NotFound):
        subscription_cancel(subscription_id=waits["paid"].pk, reason="x", user=clerk)
    with pytest.raises(NotFound):
        subscription_cancel(subscription_id=10**9, reason="x")
    with pytest.raises(NotFound):
        subscription_cancel(subscription_id="abc", reason="x")
    instance.started_by = clerk
    instance.save(update_fields=["started_by"])
    with pytest.raises(NotAllowed):
        subscription_cancel(subscription_id=waits["paid"].pk, reason="x", user=clerk)
