"""The retention job (instances_purge_expired, flowdesk.purge_expired, manage.py
purge_expired): a finished instance goes once its own version's retention passed, else
FLOWDESK_DEFAULT_RETENTION's, else never; children go with their parent; running instances
are never touched; batches; expired messages; and a failed instance an operator retries at
the same moment is purged entirely or not at all."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from processes.errors import NotFound
from processes.models import Message, ProcessInstance
from processes.services import (
    definition_publish,
    instance_retry,
    instance_start,
    instances_purge_expired,
)
from processes.statuses import InstanceStatus, MessageStatus
from tests.processes.purge_world import (
    OWNED,
    age,
    publish_rich,
    purged_count,
    rows_of,
    run_rich,
    tree_of,
)
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

YAML_TWO_DAYS = """
apiVersion: v1
kind: WorkflowDefinition
metadata: {name: yaml-two-days}
spec:
  retention: 2d
  startAt: work
  states:
    - {name: work, type: task, resource: test.noop, next: done}
    - {name: done, type: succeed}
"""


def finished(key: str, days_ago: float, **variables) -> ProcessInstance:
    instance = instance_start(definition_key=key, variables=variables)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status in (InstanceStatus.COMPLETED, InstanceStatus.FAILED)
    age(instance, timezone.now() - timedelta(days=days_ago))
    return instance


def exists(*instances: ProcessInstance) -> list[bool]:
    return [ProcessInstance.objects.filter(pk=i.pk).exists() for i in instances]


@pytest.fixture
def definitions():
    publish("thirty", [service_step("work", "test.noop")], retention="30d")
    publish("forever", [service_step("work", "test.noop")])
    publish("year", [service_step("work", "test.noop")], retention="P365D")
    definition_publish(source=YAML_TWO_DAYS, format="yaml")


def test_retention__each_version_its_own_and_none_kept_forever(definitions, settings):
    settings.FLOWDESK_ENGINE = {**settings.FLOWDESK_ENGINE, "DEFAULT_RETENTION": None}
    old, young = finished("thirty", 31), finished("thirty", 29)
    yaml_old, yaml_young = finished("yaml-two-days", 3), finished("yaml-two-days", 1)
    ancient = finished("forever", 5000)

    report = instances_purge_expired()

    assert exists(old, young, yaml_old, yaml_young, ancient) == [False, True, False, True, True]
    assert (report.instances, report.batches) == (2, 1)
    assert rows_of([old.pk, yaml_old.pk]) == dict.fromkeys(OWNED, 0)


def test_retention__the_default_applies_to_definitions_that_say_none(definitions, settings):
    settings.FLOWDESK_ENGINE = {**settings.FLOWDESK_ENGINE, "DEFAULT_RETENTION": "90d"}
    ancient, recent = finished("forever", 91), finished("forever", 89)
    kept_longer = finished("year", 100)  # its own 365 days, longer than the default
    shorter = finished("thirty", 31)

    assert instances_purge_expired().instances == 2

    assert exists(ancient, recent, kept_longer, shorter) == [False, True, True, False]


def test_retention__a_failed_instance_counts_from_when_it_failed(settings):
    publish("fragile", [service_step("charge", "test.raise", input={"error": "X"})], retention="1d")
    old = finished("fragile", 2)
    young = finished("fragile", 0.5)
    assert fresh(old).ended_at is not None  # failing sets it; a retry clears it

    assert instances_purge_expired().instances == 1

    assert exists(old, young) == [False, True]


def test_retention__children_go_with_their_parent_and_running_instances_stay(settings):
    settings.FLOWDESK_ENGINE = {**settings.FLOWDESK_ENGINE, "DEFAULT_RETENTION": "1d"}
    publish_rich()
    done = run_rich(order="A-1")
    age(done, timezone.now() - timedelta(days=2))
    tree = tree_of(done)
    publish(
        "caller",
        [
            {"id": "call", "type": "subprocess", "config": {"definition": "rich-child"}},
        ],
    )
    running = instance_start(definition_key="caller")
    child = ProcessInstance.objects.get(parent=running)
    assert fresh(running).status == InstanceStatus.RUNNING
    # A running parent's (running) child, and the parent, old as they may look, stay.
    ProcessInstance.objects.filter(pk__in=[running.pk, child.pk]).update(
        updated_at=timezone.now() - timedelta(days=30)
    )
    before = rows_of(tree_of(running))

    assert instances_purge_expired().instances == 2

    assert rows_of(tree) == dict.fromkeys(OWNED, 0)
    assert rows_of(tree_of(running)) == before


def test_retention__a_finished_child_of_a_running_parent_is_not_purged_alone(settings):
    publish("quick-child", [service_step("work", "test.noop")], retention="1d")
    publish(
        "waits-after-child",
        [
            {
                "id": "call",
                "type": "subprocess",
                "config": {"definition": "quick-child"},
                "next": ["hold"],
            },
            {"id": "hold", "type": "user_task", "config": {"candidate_groups": ["approvers"]}},
        ],
    )
    parent = instance_start(definition_key="waits-after-child")
    run_due_jobs()
    child = ProcessInstance.objects.get(parent=parent)
    assert fresh(child).status == InstanceStatus.COMPLETED
    age(child, timezone.now() - timedelta(days=2))

    assert instances_purge_expired().instances == 0

    assert exists(parent, child) == [True, True]


def test_retention__batches_of_the_given_size(settings):
    publish("thirty", [service_step("work", "test.noop")], retention="30d")
    old = [finished("thirty", 31 + n) for n in range(5)]
    counted = purged_count("retention")

    report = instances_purge_expired(batch_size=2)

    assert (report.instances, report.batches) == (5, 3)
    assert not any(exists(*old))
    assert purged_count("retention") == counted + 5


def test_retention__expired_buffered_messages_go_and_live_ones_stay():
    now = timezone.now()
    gone = Message.objects.create(name="m", expires_at=now - timedelta(seconds=1))
    marked = Message.objects.create(name="m", expires_at=now - timedelta(hours=1))
    Message.objects.filter(pk=marked.pk).update(status=MessageStatus.EXPIRED)
    live = Message.objects.create(name="m", expires_at=now + timedelta(hours=1))

    assert instances_purge_expired().messages == 2

    assert list(Message.objects.values_list("pk", flat=True)) == [live.pk]
    assert gone.pk != marked.pk


def failed_and_old() -> ProcessInstance:
    publish("fragile", [service_step("charge", "test.raise", input={"error": "X"})], retention="1d")
    return finished("fragile", 2)


def test_retention__a_retry_holding_the_lock_keeps_the_instance_whole():
    instance = failed_and_old()
    before = rows_of([instance.pk])
    retried, release, errors = threading.Event(), threading.Event(), []

    def operator():
        try:
            with transaction.atomic():
                instance_retry(instance=instance)
                retried.set()
                release.wait(30)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=operator)
    thread.start()
    assert retried.wait(30)
    try:
        report = instances_purge_expired()
    finally:
        release.set()
        thread.join()

    assert errors == []
    assert report.instances == 0
    assert fresh(instance).status == InstanceStatus.RUNNING
    after = rows_of([instance.pk])
    assert all(after[table] >= count for table, count in before.items())


def test_retention__a_retry_after_the_purge_took_the_lock_finds_nothing():
    instance = failed_and_old()
    purged, release, outcome = threading.Event(), threading.Event(), []

    def purge():
        try:
            with transaction.atomic():
                outcome.append(instances_purge_expired().instances)
                purged.set()
                release.wait(30)
        finally:
            connection.close()

    def operator():
        try:
            instance_retry(instance=instance)
            outcome.append("retried")
        except NotFound:
            outcome.append("not found")
        finally:
            connection.close()

    purger = threading.Thread(target=purge)
    purger.start()
    assert purged.wait(30)
    retrier = threading.Thread(target=operator)
    retrier.start()
    try:
        wait_for(retry_waits_for_a_lock, what="the retry to wait for the purge's lock")
    finally:
        release.set()
        purger.join()
        retrier.join()

    assert outcome == [1, "not found"]
    assert rows_of([instance.pk]) == dict.fromkeys(OWNED, 0)


def retry_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_retention__a_bad_default_is_a_configuration_error(settings):
    settings.FLOWDESK_ENGINE = {**settings.FLOWDESK_ENGINE, "DEFAULT_RETENTION": "5 parsecs"}
    with pytest.raises(ImproperlyConfigured, match="FLOWDESK_DEFAULT_RETENTION"):
        instances_purge_expired()


def test_purge_expired_command__counts_with_dry_run_then_purges():
    publish("thirty", [service_step("work", "test.noop")], retention="30d")
    old = [finished("thirty", 31), finished("thirty", 40)]
    young = finished("thirty", 1)

    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert out.getvalue().startswith("2 finished instances are past their retention")
    assert exists(*old, young) == [True, True, True]

    out = io.StringIO()
    call_command("purge_expired", "--batch", "1", stdout=out)
    assert out.getvalue().startswith("purged 2 instances in 2 batches")
    assert exists(*old, young) == [False, False, True]
