"""The instances' "Migrate to version…" action: choose the version and a mapping, see each
instance's dry run (nothing moves), confirm, and the batch's page shows its progress and
each outcome."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from processes.models import MigrationBatch
from processes.services import definition_publish, instance_start
from processes.services.migration_batches import migration_batch_run
from tests.pages.world import EXPENSE_SOURCE, start_expense
from tests.support.engine import fresh

pytestmark = pytest.mark.django_db
INSTANCES = "/admin/processes/processinstance/"


@pytest.fixture
def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])
    return client


@pytest.fixture
def renamed(people, expense):
    """Two expenses waiting at the manager's approval; version 2 renames that step."""
    tasks = [start_expense(by=people["clerk"], key=k) for k in ("A", "B")]
    text = EXPENSE_SOURCE.read_text().replace('"manager_approval"', '"approval"')
    definition_publish(source=text, format="json")
    return [task.instance for task in tasks]


def test_migrate_action__dry_run_first_then_a_batch_on_confirmation(operator, renamed):
    selected = {"action": "migrate_to_version", "_selected_action": [i.pk for i in renamed]}
    page = operator.post(INSTANCES, selected).content.decode()
    assert "Move to version" in page and "Dry run" in page

    unmapped = operator.post(INSTANCES, {**selected, "to_version": 2, "preview": "1"})
    assert "refused" in unmapped.content.decode()
    assert "no step of that id" in unmapped.content.decode()
    mapping = json.dumps({"manager_approval": "approval"})
    preview = operator.post(
        INSTANCES, {**selected, "to_version": 2, "mapping": mapping, "preview": "1"}
    ).content.decode()
    assert "manager_approval → approval" in preview and "Migrate 2 that can move" in preview
    assert {fresh(i).definition_version.number for i in renamed} == {1}
    assert not MigrationBatch.objects.exists()

    done = operator.post(
        INSTANCES, {**selected, "to_version": 2, "mapping": mapping, "confirm": "1"}, follow=True
    )
    batch = MigrationBatch.objects.get()
    assert done.redirect_chain[-1][0] == f"/admin/processes/migrationbatch/{batch.pk}/change/"
    migration_batch_run(batch_id=batch.pk)
    page = operator.get(f"/admin/processes/migrationbatch/{batch.pk}/change/").content.decode()
    assert "2 of 2 done" in page and "manager_approval → approval" in page
    assert {fresh(i).definition_version.number for i in renamed} == {2}


def test_migrate_action__a_bad_mapping_is_said_and_instances_of_two_definitions_refused(
    operator, renamed
):
    selected = {"action": "migrate_to_version", "_selected_action": [i.pk for i in renamed]}
    bad = operator.post(INSTANCES, {**selected, "to_version": 2, "mapping": "[1", "preview": "1"})
    assert "not JSON" in bad.content.decode()
    other = definition_publish(
        source=json.dumps({"name": "other", "steps": [{"id": "e", "type": "end"}]}),
        format="json",
    )
    stray = instance_start(definition_key=other.definition.key)
    mixed = {**selected, "_selected_action": [renamed[0].pk, stray.pk]}
    answer = operator.post(INSTANCES, mixed, follow=True).content.decode()
    assert "Select instances of one process definition" in answer
