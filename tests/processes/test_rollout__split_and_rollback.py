"""Gradual rollout: a start by key goes to the rolled-out version for its share of new
instances (a stable hash of the instance id), to the previous default for the rest; promote,
rollback, an explicit version, and seed 000's WorkflowVersion document."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User

from accounts.roles import MANAGER, USER
from processes.dsl import DefinitionError
from processes.errors import InvalidInput, NotAllowed, NotFound
from processes.models import ProcessInstance, Rollout
from processes.services import (
    definition_publish,
    definition_rollback,
    definition_rollout,
    instance_start,
)
from processes.services.rollouts import rollout_bucket

pytestmark = pytest.mark.django_db


def publish(label: str, *, key: str = "order") -> int:
    document = {"name": key, "version": label, "steps": [{"id": f"end_{label}", "type": "end"}]}
    return definition_publish(source=json.dumps(document), format="json").number


def started_versions(count: int, *, key: str = "order") -> list[int]:
    return [
        instance_start(definition_key=key).definition_version.number for _ in range(count)
    ]


@pytest.fixture
def two_versions():
    publish("1.0")
    publish("2.0")


def test_rollout__ten_percent_of_a_thousand_starts_land_on_the_new_version(two_versions):
    rollout = definition_rollout(definition_key="order", version=2, percent=10)
    assert (rollout.version.number, rollout.previous.number, rollout.percent) == (2, 1, 10)
    versions = started_versions(1000)
    assert set(versions) == {1, 2}
    assert 50 <= versions.count(2) <= 150


def test_rollout__the_same_instance_id_always_gets_the_same_version(two_versions):
    definition_rollout(definition_key="order", version=2, percent=50)
    ids = [f"order-{n}" for n in range(40)]
    first = {i: instance_start(definition_key="order", instance_id=i) for i in ids}
    for i in ids:  # an idempotent retry: the same instance, on the same version
        again = instance_start(definition_key="order", instance_id=i)
        assert again.pk == i
        assert again.definition_version_id == first[i].definition_version_id
    expected = {i: 2 if rollout_bucket(i) < 50 else 1 for i in ids}
    assert {i: first[i].definition_version.number for i in ids} == expected
    assert set(expected.values()) == {1, 2}


def test_rollback__sends_every_new_start_to_the_previous_version(two_versions):
    definition_rollout(definition_key="order", version=2, percent=50)
    definition_rollback(definition_key="order")
    assert set(started_versions(100)) == {1}
    assert Rollout.objects.get().status == Rollout.Status.ROLLED_BACK
    # The previous version stays pinned: a version published meanwhile takes no starts.
    publish("3.0")
    assert set(started_versions(20)) == {1}


def test_promote__every_new_start_goes_to_the_version_and_the_latest_unpins(two_versions):
    definition_rollout(definition_key="order", version=2, percent=10)
    definition_rollout(definition_key="order", version=2, percent=100)
    assert set(started_versions(50)) == {2}
    statuses = list(Rollout.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [Rollout.Status.REPLACED, Rollout.Status.PROMOTED]
    publish("3.0")
    assert set(started_versions(20)) == {3}


def test_explicit_version__a_start_that_names_its_version_gets_it(two_versions):
    definition_rollout(definition_key="order", version=2, percent=100)
    instance = instance_start(definition_key="order", version=1)
    assert instance.definition_version.number == 1
    with pytest.raises(NotFound, match="no version 7"):
        instance_start(definition_key="order", version=7)


def test_refusals__each_says_why_and_changes_nothing(two_versions):
    with pytest.raises(InvalidInput, match="0 to 100"):
        definition_rollout(definition_key="order", version=2, percent=101)
    with pytest.raises(NotFound, match="no version 9"):
        definition_rollout(definition_key="order", version=9, percent=10)
    publish("1.0", key="single")
    with pytest.raises(InvalidInput, match="first of 'single'"):
        definition_rollout(definition_key="single", version=1, percent=10)
    with pytest.raises(InvalidInput, match="no rollout"):
        definition_rollback(definition_key="order")
    clerk = User.objects.create_user("clerk")
    clerk.groups.add(Group.objects.get_or_create(name=USER)[0])
    with pytest.raises(NotAllowed):
        definition_rollout(definition_key="order", version=2, percent=10, user=clerk)
    boss = User.objects.create_user("boss")
    boss.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
    definition_rollout(definition_key="order", version=2, percent=10, user=boss)
    assert Rollout.objects.count() == 1
    assert ProcessInstance.objects.count() == 0


WORKFLOW_VERSION = """
apiVersion: api.example.com/v1
kind: WorkflowVersion
metadata:
  name: order-v2
spec:
  workflowID: "order"
  version: "2.0"
  previousVersion: "1.0"
  changes:
    - type: "added"
      description: "Added payment retry logic"
    - type: "modified"
      description: "Updated inventory check timeout"
  migration:
    strategy: "gradual"
    rolloutPercentage: 10
"""


def test_workflow_version_document__gradual_rolls_out_and_keeps_its_changes(two_versions):
    version = definition_publish(source=WORKFLOW_VERSION, format="yaml")
    assert version.number == 2
    rollout = Rollout.objects.get()
    assert (rollout.percent, rollout.previous.number, rollout.strategy) == (10, 1, "gradual")
    assert rollout.changes[0] == {"type": "added", "description": "Added payment retry logic"}
    assert 50 <= started_versions(1000).count(2) <= 150


def test_workflow_version_document__immediate_promotes(two_versions):
    immediate = WORKFLOW_VERSION.replace('strategy: "gradual"', 'strategy: "immediate"')
    definition_publish(source=immediate.replace("rolloutPercentage: 10", ""), format="yaml")
    assert Rollout.objects.get().status == Rollout.Status.PROMOTED
    assert set(started_versions(20)) == {2}


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        (('version: "2.0"', 'version: "4.0"'), "/spec/version", "no published version '4.0'"),
        (('workflowID: "order"', 'workflowID: "nope"'), "/spec/workflowID", "no process"),
        (("rolloutPercentage: 10", "rolloutPercentage: 110"), "/spec/migration/rolloutPercentage",
         "at most 100"),
        (('strategy: "gradual"', 'strategy: "bigbang"'), "/spec/migration/strategy", "one of"),
        (('type: "added"', 'type: "moved"'), "/spec/changes/0/type", "one of"),
    ],
)
def test_workflow_version_document__problems_name_their_place(two_versions, change, path, says):
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=WORKFLOW_VERSION.replace(*change), format="yaml")
    assert [(p.path, says in p.message) for p in caught.value.problems] == [(path, True)]
    assert not Rollout.objects.exists()
