"""Migrating many instances: a batch of 500 on a real worker, in chunks, with one instance
that cannot move reported and the rest moved; a dry run batch moves nothing; a batch whose
job went missing is sent again by the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.roles import MANAGER, USER
from processes.errors import NotAllowed, NotFound
from processes.models import MigrationBatch, MigrationOutcome, ProcessInstance
from processes.services import instance_start, instances_migrate
from processes.services.migration_batches import migration_batch_run, migration_batches_resume
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish
from tests.support.workers import wait_for

FORM = {"ok": {"type": "boolean"}}


def user_step(step_id: str, next: list[str]) -> dict:
    config = {"candidate_groups": ["clerks"], "form": FORM}
    return {"id": step_id, "type": "user_task", "config": config, "next": next}


@pytest.fixture
def boss(db):
    boss = User.objects.create_user("boss")
    boss.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
    return boss


@pytest.fixture
def clerk(db):
    clerk = User.objects.create_user("clerk")
    clerk.groups.add(Group.objects.get_or_create(name=USER)[0], Group.objects.create(name="clerks"))
    return clerk


def two_steps_then_one(count: int, clerk) -> tuple[list[str], str]:
    """`count` instances of v1 (check -> sign -> end) waiting at `check`, and one more at
    `sign`; then v2, which has no `sign`."""
    publish("claim", [user_step("check", ["sign"]), user_step("sign", ["end"]), _end()])
    waiting = [instance_start(definition_key="claim").pk for _ in range(count)]
    ahead = instance_start(definition_key="claim")
    task = task_claim(task=Task.objects.get(instance=ahead), user=clerk)
    task_complete(task=task, user=clerk, variables={"ok": True})
    publish("claim", [user_step("check", ["end"]), _end()])
    return waiting, ahead.pk


def _end() -> dict:
    return {"id": "end", "type": "end"}


@pytest.mark.django_db(transaction=True)
def test_batch__500_instances_move_in_chunks_and_the_one_that_cannot_is_reported(
    worker, boss, clerk
):
    waiting, ahead = two_steps_then_one(499, clerk)
    batch_id = instances_migrate(definition_key="claim", from_version=1, to_version=2, user=boss)
    batch = MigrationBatch.objects.get(pk=batch_id)
    assert batch.total == 500

    wait_for(
        lambda: MigrationBatch.objects.get(pk=batch_id).status == "done",
        timeout=120,
        what="the batch finishes",
    )
    batch = MigrationBatch.objects.get(pk=batch_id)
    assert (batch.migrated, batch.refused) == (499, 1)
    refused = MigrationOutcome.objects.get(batch=batch, ok=False)
    assert refused.instance_id == ahead
    assert refused.report["problems"][0]["step"] == "sign"
    versions = ProcessInstance.objects.values_list("pk", "definition_version__number")
    assert {pk for pk, number in versions if number == 2} == set(waiting)
    assert MigrationOutcome.objects.filter(batch=batch).count() == 500


@pytest.mark.django_db
def test_batch__a_dry_run_reports_each_instance_and_moves_none(boss, clerk):
    waiting, ahead = two_steps_then_one(3, clerk)
    batch_id = instances_migrate(
        definition_key="claim",
        from_version=1,
        to_version=2,
        instance_ids=[*waiting[:2], ahead, "no-such-id"],
        dry_run=True,
        user=boss,
    )
    assert migration_batch_run(batch_id=batch_id) == 4
    batch = MigrationBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.migrated, batch.refused) == ("done", 2, 2)
    outcomes = dict(batch.outcomes.values_list("instance_id", "ok"))
    assert outcomes == {waiting[0]: True, waiting[1]: True, ahead: False, "no-such-id": False}
    assert set(ProcessInstance.objects.values_list("definition_version__number", flat=True)) == {1}


@pytest.mark.django_db
def test_batch__the_sweeper_sends_again_a_batch_whose_job_went_missing(boss, clerk):
    waiting, _ = two_steps_then_one(2, clerk)
    batch_id = instances_migrate(
        definition_key="claim", from_version=1, to_version=2, instance_ids=waiting, user=boss
    )
    # Its message never reached a worker: the batch is still pending a while later.
    MigrationBatch.objects.filter(pk=batch_id).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    assert migration_batches_resume() == 1
    # A run that finds its lease held by another worker leaves the batch alone.
    MigrationBatch.objects.filter(pk=batch_id).update(
        lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert migration_batch_run(batch_id=batch_id) == 0
    MigrationBatch.objects.filter(pk=batch_id).update(lease_until=None)
    assert migration_batch_run(batch_id=batch_id) == 2
    assert MigrationBatch.objects.get(pk=batch_id).migrated == 2


@pytest.mark.django_db
def test_batch__refused_for_a_plain_user_and_unknown_versions(boss, clerk):
    two_steps_then_one(1, clerk)
    with pytest.raises(NotAllowed):
        instances_migrate(definition_key="claim", from_version=1, to_version=2, user=clerk)
    with pytest.raises(NotFound, match="no version 5"):
        instances_migrate(definition_key="claim", from_version=1, to_version=5, user=boss)
    assert not MigrationBatch.objects.exists()
