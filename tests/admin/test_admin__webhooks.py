"""Webhooks in the admin: an admin subscribes a URL (the generated secret shown once, then
masked), sees each delivery with its attempts, and redelivers; a manager sees none of it."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, User
from django.test import Client

from processes.models import WebhookDelivery, WebhookSubscription
from processes.services import instance_start
from processes.services.outbox import outbox_consumers_changed, outbox_relay
from processes.services.webhooks import webhook_deliver
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db
HOOKS = "/admin/processes/webhooksubscription/"
DELIVERIES = "/admin/processes/webhookdelivery/"


@pytest.fixture(autouse=True)
def _consumers_forgotten():
    outbox_consumers_changed()
    yield
    outbox_consumers_changed()


@pytest.fixture
def admin_client_of_role(db) -> Client:
    """A staff user in the admin role (its permissions granted by the migrations)."""
    user = User.objects.create_user("root", password="x", is_staff=True)  # noqa: S106
    user.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(user)
    return client


def test_add__checks_the_url_and_shows_the_generated_secret_once(admin_client_of_role, settings):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = False
    form = {"url": "http://127.0.0.1:9/hook", "description": "ERP", "active": "on"}
    refused = admin_client_of_role.post(f"{HOOKS}add/", form)
    assert refused.status_code == 200 and "refused" in refused.content.decode()
    assert not WebhookSubscription.objects.exists()

    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = True
    added = admin_client_of_role.post(f"{HOOKS}add/", form, follow=True)
    hook = WebhookSubscription.objects.get()
    assert hook.secret in added.content.decode()  # once, in the message
    change = admin_client_of_role.get(f"{HOOKS}{hook.pk}/change/").content.decode()
    assert hook.secret not in change
    assert f"••••••••{hook.secret[-4:]}" in change


def test_deliveries__attempts_shown_and_redeliver(admin_client_of_role, settings):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = True
    publish("order", [service_step("a", "test.noop")])
    with Receiver([Reply(404, b"no such hook"), Reply(200, b"ok")]) as receiver:
        WebhookSubscription.objects.create(
            url=receiver.url("/hook"), secret="s" * 20, event_types=["WORKFLOW_COMPLETED"]
        )
        outbox_consumers_changed()
        instance_start(definition_key="order")
        run_due_jobs()
        outbox_relay()
        delivery = WebhookDelivery.objects.get()
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"

        page = admin_client_of_role.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
        assert "no such hook" in page and "failed" in page
        assert re.search(r"<td class=\"field-status_code\">\s*<p>404</p>", page)

        done = admin_client_of_role.post(
            DELIVERIES, {"action": "redeliver", ACTION_CHECKBOX_NAME: [delivery.pk]}, follow=True
        )
        assert "Sent again: 1 of 1." in done.content.decode()
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"


def test_a_manager_sees_no_webhooks(db):
    from tests.pages.world import member

    manager = member("boss", "manager", staff=True)
    client = Client()
    client.force_login(manager)
    assert "webhook" not in client.get("/admin/").content.decode().lower()
    assert client.get(HOOKS).status_code == 403
    assert client.get(DELIVERIES).status_code == 403
