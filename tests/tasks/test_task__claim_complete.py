"""User steps: the task opens, candidates claim, the assignee completes through the form."""

import json
import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from processes.errors import Conflict, InvalidInput, NotAllowed
from processes.services import definition_publish, instance_start, instance_suspend
from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim, task_complete, task_unclaim
from tests.support.engine import event_types, fresh

APPROVAL = {
    "name": "approval",
    "variables": {"amount": "number", "requester": "string"},
    "steps": [
        {
            "id": "approve",
            "name": "Approve the expense",
            "type": "user_task",
            "config": {
                "candidate_groups": ["managers"],
                "candidate_users": ["${requester}"],
                "due_date": "2h",
                "priority": 3,
                "form": {
                    "approved": {"type": "boolean", "required": True},
                    "comments": "text",
                    "level": {"type": "choice", "choices": ["low", "high"]},
                    "score": {"type": "integer", "min": 1, "max": 5},
                },
            },
            "next": ["end"],
        },
        {"id": "end", "type": "end"},
    ],
}


pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    managers = Group.objects.create(name="managers")
    boss = User.objects.create_user("boss")
    boss.groups.add(managers)
    return {
        "boss": boss,
        "deputy": User.objects.create_user("deputy", is_staff=True),
        "clerk": User.objects.create_user("clerk"),
        "stranger": User.objects.create_user("stranger"),
        "managers": managers,
    }


@pytest.fixture
def task(people):
    definition_publish(source=json.dumps(APPROVAL), format="json")
    instance = instance_start(
        definition_key="approval", variables={"amount": 5000, "requester": "clerk"}
    )
    return Task.objects.get(instance=instance)


def test_user_step__opens_a_task_with_candidates_form_due_date(task, people):
    assert task.state == TaskState.OPEN
    assert task.name == "Approve the expense"
    assert list(task.candidate_groups.all()) == [people["managers"]]
    assert list(task.candidate_users.all()) == [people["clerk"]]
    assert task.form["approved"]["required"] is True
    assert task.due_date is not None and task.priority == 3


def test_claim__only_a_candidate_may_claim(task, people):
    with pytest.raises(NotAllowed):
        task_claim(task=task, user=people["stranger"])
    claimed = task_claim(task=task, user=people["boss"])
    assert (claimed.state, claimed.assignee) == (TaskState.ASSIGNED, people["boss"])
    assert "TASK_CLAIMED" in event_types(task.instance)


def test_claim__a_claimed_task_cannot_be_claimed_by_another(task, people):
    task_claim(task=task, user=people["boss"])
    with pytest.raises(Conflict, match="boss"):
        task_claim(task=task, user=people["clerk"])


def test_unclaim__gives_the_task_back(task, people):
    task_claim(task=task, user=people["boss"])
    with pytest.raises(NotAllowed):
        task_unclaim(task=task, user=people["clerk"])
    assert task_unclaim(task=task, user=people["boss"]).state == TaskState.OPEN


def test_complete__only_the_assignee(task, people):
    with pytest.raises(NotAllowed, match="claim"):
        task_complete(task=task, user=people["boss"], variables={"approved": True})
    task_claim(task=task, user=people["boss"])
    with pytest.raises(NotAllowed, match="assignee"):
        task_complete(task=task, user=people["clerk"], variables={"approved": True})


def test_complete__bad_values_are_refused_with_field_errors_and_nothing_changes(task, people):
    task_claim(task=task, user=people["boss"])
    with pytest.raises(InvalidInput) as caught:
        task_complete(
            task=task,
            user=people["boss"],
            variables={"comments": 7, "level": "medium", "score": 9, "extra": 1},
        )
    assert set(caught.value.field_errors) == {"approved", "comments", "level", "score", "extra"}
    assert Task.objects.get(pk=task.pk).state == TaskState.ASSIGNED
    assert fresh(task.instance).status == "running"


def test_complete__merges_values_and_moves_the_instance_on(task, people):
    task_claim(task=task, user=people["boss"])
    done = task_complete(
        task=task, user=people["boss"], variables={"approved": True, "comments": "ok", "score": 4}
    )
    assert done.state == TaskState.COMPLETED and done.completed_by == people["boss"]
    instance = fresh(task.instance)
    assert instance.status == "completed"
    assert instance.variables["approved"] is True
    with pytest.raises(Conflict, match="already completed by boss"):
        task_complete(task=task, user=people["boss"], variables={"approved": True})


def test_complete__refused_while_the_instance_is_suspended(task, people):
    task_claim(task=task, user=people["boss"])
    instance_suspend(instance=task.instance)
    with pytest.raises(Conflict, match="suspended"):
        task_complete(task=task, user=people["boss"], variables={"approved": True})


def test_assignee__an_expression_naming_a_user_assigns_the_task(people):
    definition = {
        "name": "direct",
        "steps": [{"id": "do", "type": "user_task", "config": {"assignee": "${who}"}}],
    }
    definition_publish(source=json.dumps(definition), format="json")
    instance = instance_start(definition_key="direct", variables={"who": "deputy"})
    task = Task.objects.get(instance=instance)
    assert (task.state, task.assignee) == (TaskState.ASSIGNED, people["deputy"])


@pytest.mark.django_db(transaction=True)
def test_claim__two_concurrent_claims_one_wins(people):
    definition_publish(source=json.dumps(APPROVAL), format="json")
    instance = instance_start(definition_key="approval", variables={"requester": "clerk"})
    task = Task.objects.get(instance=instance)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim(user):
        try:
            barrier.wait()
            task_claim(task=task, user=user)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(people[n],)) for n in ("boss", "clerk")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
