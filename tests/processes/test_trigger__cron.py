"""Cron start triggers: publishing schedules them at the next match (in TIME_ZONE), the
sweeper starts an instance of the trigger's version once per slot (two sweeps racing too),
a new version's triggers replace the old ones, a failed start is recorded and the trigger
goes on, and a malformed expression is a problem with its pointer."""

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from processes.dsl import DefinitionError
from processes.models import Event, ProcessInstance, Trigger
from processes.services import jobs_sweep
from processes.services.triggers import triggers_fire_due
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

WEEKDAYS_9 = "0 9 * * MON-FRI"


def publish_report(triggers, *, key: str = "report", **extra):
    return publish(
        key,
        [service_step("write", "test.mark")],
        variables={"kind": {"type": "string", "required": True}},
        triggers=triggers,
        **extra,
    )


def make_due(**where) -> None:
    """The slot has come, without waiting for it: the due time moves into the past."""
    past = timezone.now() - timedelta(seconds=1)
    Trigger.objects.filter(active=True, **where).update(next_due_at=past)


def started_events():
    return Event.objects.filter(type="WORKFLOW_STARTED").order_by("id")


@pytest.mark.django_db
def test_publish__schedules_the_next_match_in_the_server_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    before = timezone.now()
    version = publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    trigger = Trigger.objects.get()
    assert (trigger.version, trigger.definition, trigger.kind) == (
        version,
        version.definition,
        "cron",
    )
    assert (trigger.spec, trigger.variables, trigger.active) == (
        WEEKDAYS_9,
        {"kind": "daily"},
        True,
    )
    local = timezone.localtime(trigger.next_due_at)
    assert str(local.tzinfo) == "Europe/Berlin"
    assert (local.hour, local.minute, local.second) == (9, 0, 0)
    assert local.isoweekday() <= 5
    assert before < trigger.next_due_at <= before + timedelta(days=4)
    assert (trigger.started, trigger.last_fired_at, trigger.last_error) == (0, None, "")


@pytest.mark.django_db
def test_due__the_sweeper_starts_one_instance_by_the_engine_and_moves_to_the_next_slot():
    version = publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    assert jobs_sweep().started == 0
    assert not ProcessInstance.objects.exists()

    make_due()
    assert jobs_sweep().started == 1
    instance = ProcessInstance.objects.get()
    assert (instance.definition_version, instance.started_by) == (version, None)
    assert instance.variables == {"kind": "daily"}
    started = started_events().get()
    assert started.actor is None
    assert started.payload["trigger"] == f"cron {WEEKDAYS_9}"
    assert started.payload["version"] == 1
    trigger = Trigger.objects.get()
    local = timezone.localtime(trigger.next_due_at)
    assert trigger.next_due_at > timezone.now()
    assert (local.hour, local.minute, local.isoweekday() <= 5) == (9, 0, True)
    assert (trigger.started, trigger.last_error) == (1, "")
    assert trigger.last_fired_at is not None

    assert jobs_sweep().started == 0  # once per slot
    run_due_jobs()
    assert fresh(instance).status == "completed"


@pytest.mark.django_db
def test_downtime__missed_slots_start_one_instance_not_a_burst():
    publish_report([{"cron": "*/5 * * * *", "variables": {"kind": "often"}}])
    Trigger.objects.update(next_due_at=timezone.now() - timedelta(days=3))
    assert triggers_fire_due() == 1
    assert triggers_fire_due() == 0
    assert ProcessInstance.objects.count() == 1
    next_due = Trigger.objects.get().next_due_at
    assert timezone.now() < next_due <= timezone.now() + timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_sweepers_racing__start_one_instance_per_slot(attempt):
    publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    make_due()
    barrier = threading.Barrier(2)
    started, errors = [], []

    def sweep():
        try:
            barrier.wait()
            started.append(triggers_fire_due())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(started) == [0, 1]
    assert ProcessInstance.objects.count() == 1
    assert Trigger.objects.get().started == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_publish_racing_a_sweep__no_error_and_the_old_trigger_starts_at_most_once(attempt):
    publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    make_due()
    barrier = threading.Barrier(2)
    errors = []

    def run(action):
        try:
            barrier.wait()
            action()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(triggers_fire_due,)),
        threading.Thread(target=run, args=(lambda: publish_report([], description="v2"),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not Trigger.objects.filter(active=True).exists()
    assert Trigger.objects.get().last_error == ""
    assert ProcessInstance.objects.count() <= 1


@pytest.mark.django_db
def test_new_version__replaces_the_old_versions_triggers():
    first = publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    second = publish_report(
        [{"cron": "0 18 * * FRI", "variables": {"kind": "weekly"}}], description="v2"
    )
    old, new = Trigger.objects.get(version=first), Trigger.objects.get(version=second)
    assert (old.active, old.next_due_at) == (False, None)
    assert (new.active, new.spec) == (True, "0 18 * * FRI")

    Trigger.objects.update(next_due_at=timezone.now() - timedelta(seconds=1))
    assert triggers_fire_due() == 1
    instance = ProcessInstance.objects.get()
    assert (instance.definition_version, instance.variables) == (second, {"kind": "weekly"})

    publish_report([], description="v3: no schedule")
    assert not Trigger.objects.filter(active=True).exists()


@pytest.mark.django_db
def test_same_source_again__changes_nothing():
    publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    before = list(Trigger.objects.values())
    publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    assert list(Trigger.objects.values()) == before


@pytest.mark.django_db
def test_failed_start__is_recorded_and_the_trigger_goes_on(caplog):
    publish_report([{"cron": WEEKDAYS_9, "variables": {"kind": "daily"}}])
    # What the version now refuses (its declarations were checked when it was published).
    Trigger.objects.update(variables={"kind": 42})
    make_due()
    assert jobs_sweep().started == 0
    assert not ProcessInstance.objects.exists()
    trigger = Trigger.objects.get()
    assert (
        trigger.last_error
        == "invalid variable(s): kind (kind: must be of type string, not an integer)"
    )
    assert trigger.next_due_at > timezone.now()
    assert (trigger.started, trigger.last_fired_at) == (0, None)
    assert "could not start" in caplog.text

    Trigger.objects.update(variables={"kind": "daily"})
    make_due()
    assert jobs_sweep().started == 1
    trigger = Trigger.objects.get()
    assert (trigger.started, trigger.last_error) == (1, "")


@pytest.mark.django_db
def test_malformed_cron__refused_with_its_pointer_and_nothing_stored():
    with pytest.raises(DefinitionError) as caught:
        publish_report([{"cron": "0 9 * * WEEKDAYS", "variables": {"kind": "daily"}}])
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("/triggers/0/cron", "field 5 (day of week) 'WEEKDAYS' is not valid there")
    ]
    assert not Trigger.objects.exists()


@pytest.mark.django_db
def test_api__a_malformed_cron_is_a_400_naming_the_place_and_the_detail_lists_triggers():
    maria = User.objects.create_superuser("maria", "maria@example.com", "pw")
    client = APIClient()
    client.force_authenticate(maria)
    document = {
        "name": "report",
        "variables": {"kind": "string"},
        "triggers": [{"cron": "0 9 * * MON-FRI"}, {"cron": "0 9 32 * *"}],
        "steps": [{"id": "done", "type": "end"}],
    }
    answer = client.post(
        "/api/v1/process-definitions", json.dumps(document), content_type="application/json"
    )
    assert answer.status_code == 400
    assert [(e["path"], e["message"]) for e in answer.json()["errors"]] == [
        ("/triggers/1/cron", "field 3 (day of month) '32' is not valid there")
    ]
    document["triggers"] = [{"cron": "0 9 * * MON-FRI"}, {"message": "report-asked"}]
    created = client.post(
        "/api/v1/process-definitions", json.dumps(document), content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    triggers = created.json()["triggers"]
    assert [(t["kind"], t["spec"], t["active"]) for t in triggers] == [
        ("cron", "0 9 * * MON-FRI", True),
        ("message", "report-asked", True),
    ]
    assert triggers[0]["next_due_at"] is not None and triggers[1]["next_due_at"] is None
    detail = client.get(f"/api/v1/process-definitions/{created.json()['id']}").json()
    assert detail["triggers"] == triggers
