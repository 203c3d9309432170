"""The "Waiting for" panel lists message and signal waits by name and key (and messages kept
for a suspended instance); an operator stops one of a deferred choice's waits with a reason,
but is not offered to stop the last thing a step waits for."""

import re
from pathlib import Path

import pytest
from django.test import Client

from processes.models import Event, Subscription
from processes.services import (
    definition_publish,
    instance_start,
    instance_suspend,
    message_correlate,
)
from processes.statuses import SubscriptionStatus
from tests.support.definitions import publish
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db

INVOICE = Path(__file__).resolve().parents[2] / "examples" / "invoice-payment.json"
CHOICE = [
    {"id": "choose", "type": "event_gateway", "next": ["paid", "closed"]},
    {
        "id": "paid",
        "type": "message_catch",
        "config": {"message": "paid", "correlation_key": "${order}"},
        "next": ["end"],
    },
    {"id": "closed", "type": "signal_catch", "config": {"signal": "closed"}, "next": ["end"]},
    {"id": "end", "type": "end"},
]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def waits_panel(client, instance) -> str:
    html = client.get(f"/instances/{instance.pk}/").content.decode()
    start = html.index('id="waits"')
    return html[start : html.index("</section>", start)]


def test_panel__message_and_signal_waits_by_name_and_key(people):
    publish("choice", CHOICE)
    instance = instance_start(definition_key="choice", variables={"order": "A-7"})
    instance.started_by = people["clerk"]  # who may see it, not control it
    instance.save(update_fields=["started_by"])
    panel = waits_panel(logged_in(people["boss"]), instance)
    rows = dict(re.findall(r'<tr id="wait-subscription-(\d+)">(.*?)</tr>', panel, re.S))
    paid = Subscription.objects.get(instance=instance, name="paid")
    assert "Message “paid” (key A-7)" in rows[str(paid.pk)]
    assert any("Signal “closed”" in row for row in rows.values())
    assert panel.count("Stop waiting…") == 2  # each leaves the other to wait for
    assert "Stop waiting" not in waits_panel(logged_in(people["clerk"]), instance)


def test_panel__a_wait_beside_a_timer_may_stop_the_only_wait_may_not(people):
    definition_publish(source=INVOICE.read_text(), format="json")
    invoice = instance_start(
        definition_key="invoice-payment", variables={"invoice_id": "I-1", "amount": 5}
    )
    run_due_jobs()
    panel = waits_panel(logged_in(people["boss"]), invoice)
    assert "Message “payment-received” (key I-1)" in panel
    assert "Stop waiting…" in panel  # the gateway's 14-day timer still waits
    assert "Fire now" in panel
    publish("only", [CHOICE[1], CHOICE[3]])
    only = instance_start(definition_key="only", variables={"order": "A-1"})
    panel = waits_panel(logged_in(people["boss"]), only)
    assert "Message “paid” (key A-1)" in panel
    assert "Stop waiting" not in panel


def test_stop__with_a_reason_records_it_and_the_row_leaves(people):
    publish("choice", CHOICE)
    instance = instance_start(definition_key="choice", variables={"order": "A-7"})
    closed = Subscription.objects.get(instance=instance, name="closed")
    boss = logged_in(people["boss"])
    url = f"/instances/{instance.pk}/subscriptions/{closed.pk}/cancel/"
    answer = boss.post(url, {"reason": ""}, follow=True)
    assert "give the reason" in answer.content.decode()
    assert Subscription.objects.get(pk=closed.pk).status == SubscriptionStatus.WAITING
    answer = boss.post(url, {"reason": "no quarter close this year"}, follow=True)
    assert "Stopped waiting" in answer.content.decode()
    assert Subscription.objects.get(pk=closed.pk).status == SubscriptionStatus.CANCELLED
    event = Event.objects.get(instance=instance, type="SUBSCRIPTION_CANCELLED")
    assert (event.actor, event.payload["reason"]) == (people["boss"], "no quarter close this year")
    assert f"wait-subscription-{closed.pk}" not in waits_panel(boss, instance)


def test_stop__by_someone_who_may_not_is_refused(people):
    publish("choice", CHOICE)
    instance = instance_start(
        definition_key="choice", variables={"order": "A-7"}, user=people["boss"]
    )
    closed = Subscription.objects.get(instance=instance, name="closed")
    url = f"/instances/{instance.pk}/subscriptions/{closed.pk}/cancel/"
    assert logged_in(people["clerk"]).post(url, {"reason": "x"}).status_code == 404
    other = instance_start(definition_key="choice", variables={"order": "B"})
    wrong = f"/instances/{other.pk}/subscriptions/{closed.pk}/cancel/"
    assert logged_in(people["boss"]).post(wrong, {"reason": "x"}).status_code == 404
    assert Subscription.objects.get(pk=closed.pk).status == SubscriptionStatus.WAITING


def test_panel__a_message_kept_for_a_suspended_instance_is_shown(people):
    publish("choice", CHOICE)
    instance = instance_start(definition_key="choice", variables={"order": "A-7"})
    instance_suspend(instance=instance)
    message_correlate(name="paid", correlation_key="A-7", ttl_seconds=3600)
    panel = waits_panel(logged_in(people["boss"]), instance)
    assert re.search(r"Message “paid” kept for it until [^<]+", panel)
