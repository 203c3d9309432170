"""Migrating a running instance to another version: a renamed step (mapping) and a step added
after it, the task keeping its id and assignee, finished on the new path by real workers; and
every refusal with its reason and nothing changed; a dry run writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from accounts.roles import MANAGER, USER
from processes.errors import NotAllowed
from processes.models import Event, Job, ProcessInstance, Subscription, Timer, Token
from processes.services import instance_migrate, instance_start, instance_terminate
from processes.statuses import InstanceStatus
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.workers import wait_for

FORM = {"approved": {"type": "boolean", "required": True}}


def approval_step(step_id: str, next: str, **config) -> dict:
    config = {"candidate_groups": ["approvers"], "form": FORM, **config}
    return {"id": step_id, "type": "user_task", "config": config, "next": [next]}


def publish_v1() -> None:
    publish(
        "leave",
        [approval_step("approve", "record"), service_step("record", "test.mark")],
    )


def publish_v2(**extra) -> None:
    """`approve` renamed `review`, and `notify` added after it."""
    publish(
        "leave",
        [
            approval_step("review", "notify"),
            service_step("notify", "test.mark", next=["record"]),
            service_step("record", "test.mark"),
        ],
        **extra,
    )


@pytest.fixture
def people(db):
    approvers = Group.objects.create(name="approvers")
    ann = User.objects.create_user("ann")
    ann.groups.add(approvers, Group.objects.get_or_create(name=USER)[0])
    boss = User.objects.create_user("boss")
    boss.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
    return {"ann": ann, "boss": boss}


def counts() -> dict[str, int]:
    models = (ProcessInstance, Token, Job, Task, Timer, Subscription, Event)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db(transaction=True)
def test_migrate__renamed_step_keeps_its_task_and_finishes_on_the_new_path(worker, people):
    publish_v1()
    instance = instance_start(definition_key="leave")
    task = task_claim(task=Task.objects.get(instance=instance), user=people["ann"])
    publish_v2()

    report = instance_migrate(
        instance=instance, to_version=2, mapping={"approve": "review"}, user=people["boss"]
    )
    assert report.ok, report.problems
    assert report.moves == {"approve": "review"}
    instance = fresh(instance)
    assert instance.definition_version.number == 2
    moved = Task.objects.get(pk=task.pk)
    assert (moved.step_id, moved.assignee, moved.state) == ("review", people["ann"], "assigned")
    assert moved.claimed_at == task.claimed_at and moved.due_date == task.due_date
    migrated = Event.objects.get(instance=instance, type="INSTANCE_MIGRATED")
    assert (migrated.payload["from"], migrated.payload["to"]) == (1, 2)
    assert migrated.actor == people["boss"]

    task_complete(task=moved, user=people["ann"], variables={"approved": True})
    wait_for(lambda: fresh(instance).status == InstanceStatus.COMPLETED, what="completion")
    variables = fresh(instance).variables
    assert variables["ran_notify"] and variables["ran_record"]
    assert "notify" in [e.step_id for e in Event.objects.filter(instance=instance)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mapping", "extra", "step", "says"),
    [
        ({}, {}, "approve", "there is no step of that id 'approve'"),
        ({"approve": "notify"}, {}, "approve", "a user step and 'notify'"),
        (
            {"approve": "review"},
            {"variables": {"region": {"type": "string", "required": True}}},
            "",
            "requires variable 'region' (string)",
        ),
    ],
)
def test_migrate__a_refusal_says_why_and_changes_nothing(people, mapping, extra, step, says):
    publish_v1()
    instance = instance_start(definition_key="leave")
    publish_v2(**extra)
    before = counts()
    report = instance_migrate(instance=instance, to_version=2, mapping=mapping, user=people["boss"])
    assert not report.ok
    assert [(p["step"], says in p["problem"]) for p in report.problems] == [(step, True)], (
        report.problems
    )
    assert counts() == before
    assert fresh(instance).definition_version.number == 1
    assert Task.objects.get(instance=instance).step_id == "approve"


@pytest.mark.django_db
def test_migrate__a_missing_variable_can_be_given_with_its_type(people):
    publish_v1()
    instance = instance_start(definition_key="leave")
    publish_v2(variables={"region": {"type": "string", "required": True}})
    wrong = instance_migrate(
        instance=instance,
        to_version=2,
        mapping={"approve": "review"},
        variables={"region": 7},
        user=people["boss"],
    )
    assert not wrong.ok and "must be of type string" in wrong.problems[0]["problem"]
    report = instance_migrate(
        instance=instance,
        to_version=2,
        mapping={"approve": "review"},
        variables={"region": "north"},
        user=people["boss"],
    )
    assert report.ok
    assert fresh(instance).variables["region"] == "north"


@pytest.mark.django_db
def test_migrate__a_finished_instance_is_refused(people):
    publish_v1()
    instance = instance_start(definition_key="leave")
    instance_terminate(instance=instance, user=people["boss"])
    publish_v2()
    before = counts()
    report = instance_migrate(
        instance=instance, to_version=2, mapping={"approve": "review"}, user=people["boss"]
    )
    assert not report.ok and "the instance is cancelled" in report.problems[0]["problem"]
    assert counts() == before


@pytest.mark.django_db
def test_migrate__a_dry_run_reports_and_writes_nothing(people):
    publish_v1()
    instance = instance_start(definition_key="leave")
    publish_v2()
    before = counts()
    report = instance_migrate(
        instance=instance,
        to_version=2,
        mapping={"approve": "review"},
        dry_run=True,
        user=people["boss"],
    )
    assert report.ok and report.dry_run and report.moves == {"approve": "review"}
    assert counts() == before
    assert fresh(instance).definition_version.number == 1
    assert "INSTANCE_MIGRATED" not in event_types(instance)


@pytest.mark.django_db
def test_migrate__only_managers_and_admins(people):
    publish_v1()
    instance = instance_start(definition_key="leave")
    publish_v2()
    with pytest.raises(NotAllowed):
        instance_migrate(instance=instance, to_version=2, user=people["ann"])


@pytest.mark.django_db
def test_migrate__a_failed_instance_moves_and_its_retry_runs_the_new_step(people):
    publish("fix", [service_step("charge", "test.raise", input={"error": "Bug"})])
    instance = instance_start(definition_key="fix")
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.FAILED
    publish("fix", [service_step("charge", "test.mark")])
    assert instance_migrate(instance=instance, to_version=2, user=people["boss"]).ok
    from processes.services import instance_retry

    instance_retry(instance=fresh(instance), user=people["boss"])
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.COMPLETED
    assert fresh(instance).variables["ran_charge"] is True
