"""Message and signal waits in the admin: an instance's inline by name and key, the list with
"Stop the selected waits…" (asking for the reason first), and the kept messages."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from processes.models import Event, Subscription
from processes.services import instance_start, message_correlate
from processes.statuses import SubscriptionStatus
from tests.pages.test_instance_page__message_waits import CHOICE
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db
WAITS = "/admin/processes/subscription/"


def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])
    return client


def test_inline__names_each_wait_and_links_to_stop_it(people):
    publish("choice", CHOICE)
    instance = instance_start(definition_key="choice", variables={"order": "A-7"})
    html = operator(people).get(f"/admin/processes/processinstance/{instance.pk}/change/")
    html = html.content.decode()
    waits = html[html.index('id="subscriptions-group"') : html.index('id="events-group"')]
    labels = re.findall(r'<td class="field-event">\s*<p>([^<]+)</p>', waits)
    assert labels == ["Message “paid” (key A-7)", "Signal “closed”"]
    assert waits.count("Stop waiting…") == 2


def test_action__asks_for_a_reason_then_stops_each_refusing_the_last_wait(people):
    publish("choice", CHOICE)
    instance = instance_start(definition_key="choice", variables={"order": "A-7"})
    paid, closed = Subscription.objects.filter(instance=instance).order_by("id")
    client = operator(people)
    chosen = {"action": "stop_waiting", ACTION_CHECKBOX_NAME: [paid.pk, closed.pk]}
    asked = client.post(WAITS, chosen)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    done = client.post(WAITS, {**chosen, "post": "yes", "reason": "cleanup"}, follow=True)
    text = done.content.decode()
    assert "Stopped: 1 of 2." in text and "1 refused." in text and "waits for nothing but" in text
    statuses = sorted(Subscription.objects.filter(instance=instance).values_list("status"))
    assert statuses == [(SubscriptionStatus.CANCELLED,), (SubscriptionStatus.WAITING,)]
    event = Event.objects.get(instance=instance, type="SUBSCRIPTION_CANCELLED")
    assert event.payload["reason"] == "cleanup"


def test_messages__kept_ones_are_listed(people):
    message_correlate(name="paid", correlation_key="Z", ttl_seconds=60)
    html = operator(people).get("/admin/processes/message/").content.decode()
    assert "paid" in html and "Buffered" in html
