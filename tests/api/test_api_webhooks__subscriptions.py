"""/api/v1/webhooks: admins subscribe URLs (the secret shown once), managers and users may
not; a URL resolving to a private address is refused, naming `url`."""

from __future__ import annotations

import pytest

from processes.models import WebhookDelivery, WebhookSubscription
from processes.services import instance_start
from processes.services.outbox import outbox_consumers_changed, outbox_relay
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs

HOOKS = "/api/v1/webhooks"


@pytest.fixture(autouse=True)
def _consumers_forgotten():
    outbox_consumers_changed()
    yield
    outbox_consumers_changed()


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (no DNS in the tests)."""
    from processes import outbound

    real = outbound.host_addresses

    def addresses(host: str, port: int) -> list[str]:
        return ["93.184.215.14"] if host.endswith("example.com") else real(host, port)

    monkeypatch.setattr(outbound, "host_addresses", addresses)


def test_create__admin_gets_the_secret_once(api, public_dns):
    root = api("root")
    created = root.post(
        HOOKS,
        {
            "url": "https://hooks.example.com/flowdesk",
            "event_types": ["WORKFLOW_COMPLETED"],
            "definition_keys": ["order"],
            "description": "ERP",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert len(body["secret"]) >= 32
    assert body["event_types"] == ["WORKFLOW_COMPLETED"] and body["active"] is True
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert stored.secret == body["secret"]

    listed = root.get(HOOKS).json()
    one = root.get(f"{HOOKS}/{body['id']}").json()
    assert [h["id"] for h in listed] == [body["id"]]
    assert "secret" not in listed[0] and "secret" not in one
    assert body["secret"] not in str(listed) + str(one)


def test_create__a_chosen_secret_is_kept_and_a_short_one_refused(api, public_dns):
    root = api("root")
    short = root.post(HOOKS, {"url": "https://hooks.example.com/a", "secret": "short"})
    assert short.status_code == 400 and "secret" in short.json()["errors"]
    chosen = root.post(HOOKS, {"url": "https://hooks.example.com/a", "secret": "s" * 24})
    assert chosen.json()["secret"] == "s" * 24


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost:8080/hook",  # resolves to 127.0.0.1
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "ftp://hooks.example.com/x",
    ],
)
def test_create__a_private_or_non_http_target_is_400_naming_url(api, settings, url):
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = False
    answer = api("root").post(HOOKS, {"url": url})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["url"]
    assert "refused" in answer.json()["errors"]["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_create__an_unknown_event_type_is_400(api, public_dns):
    answer = api("root").post(
        HOOKS, {"url": "https://hooks.example.com/a", "event_types": ["NOT_AN_EVENT"]}
    )
    assert answer.status_code == 400 and "event_types" in answer.json()["errors"]


@pytest.mark.parametrize("who", ["maria", "ann"])  # a manager, a user
def test_only_admins_manage_webhooks(api, public_dns, who):
    hook = WebhookSubscription.objects.create(url="https://hooks.example.com/x", secret="s" * 20)
    client = api(who)
    assert client.get(HOOKS).status_code == 403
    assert client.post(HOOKS, {"url": "https://hooks.example.com/y"}).status_code == 403
    assert client.get(f"{HOOKS}/{hook.pk}").status_code == 403
    assert client.patch(f"{HOOKS}/{hook.pk}", {"active": False}).status_code == 403
    assert client.delete(f"{HOOKS}/{hook.pk}").status_code == 403
    assert WebhookSubscription.objects.get().active


def test_update_and_delete(api, public_dns, settings):
    root = api("root")
    hook = root.post(HOOKS, {"url": "https://hooks.example.com/a"}).json()
    changed = root.patch(
        f"{HOOKS}/{hook['id']}", {"active": False, "event_types": ["WORKFLOW_FAILED"]}
    )
    assert changed.status_code == 200
    assert (changed.json()["active"], changed.json()["event_types"]) == (
        False,
        ["WORKFLOW_FAILED"],
    )
    settings.FLOWDESK_ALLOW_PRIVATE_TARGETS = False
    refused = root.patch(f"{HOOKS}/{hook['id']}", {"url": "http://127.0.0.1/"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["url"]
    assert root.delete(f"{HOOKS}/{hook['id']}").json()["id"] == hook["id"]
    assert root.get(f"{HOOKS}/{hook['id']}").status_code == 404
    assert root.get(f"{HOOKS}/nope").status_code == 404


def test_deliveries__list_each_with_its_attempts(api, public_dns, settings):
    publish("order", [service_step("a", "test.noop")])
    root = api("root")
    hook = root.post(
        HOOKS, {"url": "https://hooks.example.com/a", "event_types": ["WORKFLOW_COMPLETED"]}
    ).json()
    instance_start(definition_key="order")
    run_due_jobs()
    outbox_relay()
    assert WebhookDelivery.objects.count() == 1
    deliveries = root.get(f"{HOOKS}/{hook['id']}/deliveries").json()
    assert [(d["event_type"], d["status"], d["attempts"]) for d in deliveries] == [
        ("flowdesk.WORKFLOW_COMPLETED", "pending", [])
    ]
