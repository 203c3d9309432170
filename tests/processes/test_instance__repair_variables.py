"""Repair: a manager corrects a failed or suspended instance's variables, then retries it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from processes.errors import Conflict, InvalidInput, NotAllowed
from processes.models import Event
from processes.services import (
    instance_retry,
    instance_start,
    instance_suspend,
    instance_variables_update,
)
from processes.services.repair import variables_checksum
from processes.statuses import EventType, InstanceStatus
from tests.pages import world
from tests.support.definitions import publish
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db
people = world.people  # the fixture
PASSWORD = world.PASSWORD

# Fails while `amount` is over 100; an operator lowers it and retries.
GATE = {
    "id": "check",
    "type": "exclusive_gateway",
    "config": {"conditions": [{"expression": "${amount <= 100}", "next": "done"}]},
}
DONE = {"id": "done", "type": "end"}
VARIABLES = {
    "amount": {"type": "number", "required": True},
    "note": "string",
}


@pytest.fixture
def failed():
    publish("repairable", [GATE, DONE], variables=VARIABLES)
    instance = instance_start(definition_key="repairable", variables={"amount": 500, "x": 1})
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.FAILED
    return fresh(instance)


def test_service__edits_then_retry_completes(people, failed):
    boss = people["boss"]
    instance_variables_update(instance=failed, changes={"amount": 50, "x": None}, user=boss)
    edited = fresh(failed)
    assert edited.variables == {"amount": 50}
    event = Event.objects.get(instance=failed, type=EventType.VARIABLES_UPDATED)
    assert event.actor == boss
    assert event.payload["changes"] == {
        "amount": {"before": 500, "after": 50},
        "x": {"before": 1, "after": None},
    }
    instance_retry(instance=edited, user=boss)
    run_due_jobs()
    assert fresh(failed).status == InstanceStatus.COMPLETED


def test_service__refuses_wrong_types_required_removal_and_plain_users(people, failed):
    with pytest.raises(InvalidInput) as wrong:
        instance_variables_update(instance=failed, changes={"amount": "lots"}, user=people["boss"])
    assert set(wrong.value.field_errors) == {"amount"}
    with pytest.raises(InvalidInput) as required:
        instance_variables_update(instance=failed, changes={"amount": None}, user=people["boss"])
    assert set(required.value.field_errors) == {"amount"}
    with pytest.raises(NotAllowed):
        instance_variables_update(instance=failed, changes={"amount": 1}, user=people["clerk"])
    assert fresh(failed).variables == {"amount": 500, "x": 1}
    assert not Event.objects.filter(type=EventType.VARIABLES_UPDATED).exists()


def test_service__a_running_instance_is_suspended_first(people):
    publish("waits", [{"id": "u", "type": "user_task", "config": {}}], variables=VARIABLES)
    instance = instance_start(definition_key="waits", variables={"amount": 1})
    with pytest.raises(Conflict, match="suspend it first"):
        instance_variables_update(instance=instance, changes={"amount": 2}, user=people["boss"])
    instance_suspend(instance=instance, user=people["boss"])
    instance_variables_update(instance=instance, changes={"note": "ok"}, user=people["boss"])
    assert fresh(instance).variables == {"amount": 1, "note": "ok"}


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_api__patch_variables(people, failed):
    url = f"/api/v1/process-instances/{failed.pk}/variables"
    refused = _api(people["boss"]).patch(url, {"amount": "lots"}, format="json")
    assert refused.status_code == 400 and "amount" in refused.json()["errors"]
    done = _api(people["boss"]).patch(url, {"amount": 10, "note": "fixed"}, format="json")
    assert done.status_code == 200
    assert done.json()["variables"] == {"amount": 10, "note": "fixed", "x": 1}
    # A plain user who started it sees it, but may not edit it.
    failed.started_by = people["clerk"]
    failed.save(update_fields=["started_by"])
    assert _api(people["clerk"]).patch(url, {"amount": 1}, format="json").status_code == 403
    assert _api(people["clerk2"]).patch(url, {"amount": 1}, format="json").status_code == 404


def test_page__edit_form_saves_and_the_timeline_shows_before_and_after(people, failed):
    client = Client()
    client.force_login(people["boss"])
    page = client.get(f"/instances/{failed.pk}/")
    assert f'href="/instances/{failed.pk}/variables/"' in page.content.decode()
    form = client.get(f"/instances/{failed.pk}/variables/")
    assert form.status_code == 200 and 'name="var-amount"' in form.content.decode()
    shown = {"amount": "500", "note": "", "x": json.dumps(1)}  # as the page showed them
    opened_on = variables_checksum(failed.variables)
    saved = client.post(
        f"/instances/{failed.pk}/variables/",
        {
            "var-checksum": opened_on,
            **{f"initial-var-{name}": value for name, value in shown.items()},
            **{f"var-{name}": value for name, value in shown.items()},
            "var-amount": "20",
        },
    )
    assert saved.status_code == 302
    assert fresh(failed).variables == {"amount": 20, "x": 1}
    # A form opened before that change may not undo it.
    stale = client.post(
        f"/instances/{failed.pk}/variables/",
        {"var-checksum": opened_on, "initial-var-amount": "500", "var-amount": "600"},
    )
    assert stale.status_code == 302
    assert fresh(failed).variables == {"amount": 20, "x": 1}
    timeline = client.get(f"/instances/{failed.pk}/").content.decode()
    assert "Variables edited" in timeline and "500 → 20" in timeline
    clerk = Client()
    clerk.force_login(people["clerk"])
    assert clerk.get(f"/instances/{failed.pk}/variables/").status_code == 404


def test_page__untouched_fields_stay_as_they_are(people):
    declared = {"amount": "number", "hr_ok": "boolean", "when": "date", "note": "string"}
    publish("keep", [GATE, DONE], variables=declared)
    start = {"amount": 500, "when": "2026-03-01T10:00:00", "note": ""}
    instance = instance_start(definition_key="keep", variables=start)
    run_due_jobs()
    client = Client()
    client.force_login(people["boss"])
    html = client.get(f"/instances/{instance.pk}/variables/").content.decode()
    assert 'value="2026-03-01T10:00:00"' in html
    shown = {"amount": "500", "hr_ok": "", "when": "2026-03-01T10:00:00", "note": ""}
    client.post(
        f"/instances/{instance.pk}/variables/",
        {
            "var-checksum": variables_checksum(start),
            **{f"initial-var-{name}": value for name, value in shown.items()},
            **{f"var-{name}": value for name, value in shown.items()},
            "var-amount": "50",
        },
    )
    assert fresh(instance).variables == {**start, "amount": 50}


def test_api__if_match_refuses_an_edit_of_variables_changed_since(people, failed):
    url = f"/api/v1/process-instances/{failed.pk}/variables"
    boss = _api(people["boss"])
    read = boss.get(f"/api/v1/process-instances/{failed.pk}").json()["variables_checksum"]
    assert (
        boss.patch(url, {"amount": 10}, format="json", HTTP_IF_MATCH=f'"{read}"').status_code == 200
    )
    stale = boss.patch(url, {"amount": 20}, format="json", HTTP_IF_MATCH=f'"{read}"')
    assert stale.status_code == 409
    assert fresh(failed).variables["amount"] == 10
