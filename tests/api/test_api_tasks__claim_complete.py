"""The task inbox queries, claiming, completing through the form, assigning, and refusals."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from processes.models import ProcessInstance
from processes.services import instance_start
from tasks.models import Task

TASKS = "/api/v1/tasks"

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(approval, people) -> Task:
    """An open approval task: bob (group approvers) is a candidate; ann started it."""
    instance = instance_start(
        definition_key="approval", variables={"amount": 5000}, user=people["ann"]
    )
    return Task.objects.get(instance=instance)


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.json()
    return [t["id"] for t in answer.json()["results"]]


def test_detail__a_task_with_its_form_schema(api, task):
    body = api("bob").get(f"{TASKS}/{task.pk}").json()
    assert (body["name"], body["state"], body["process_instance_id"]) == (
        "Approve the amount",
        "open",
        task.instance_id,
    )
    assert (body["process_definition_key"], body["candidate_groups"]) == ("approval", ["approvers"])
    assert body["form"]["approved"]["type"] == "boolean"
    assert body["form"]["approved"]["required"] is True


@pytest.mark.parametrize("task_id", ["own", "999999", "abc", "9" * 40])
def test_detail__another_users_task_or_an_unknown_id_is_404(api, task, task_id):
    path_id = task.pk if task_id == "own" else task_id
    answer = api("eve").get(f"{TASKS}/{path_id}")
    assert answer.status_code == 404
    assert answer.json()["detail"]


def test_claim__a_candidate_claims_and_finds_it_in_their_own_tasks(api, task):
    bob = api("bob")
    assert ids(bob.get(TASKS, {"candidate_user": "current_user"})) == [task.pk]
    claimed = bob.put(f"{TASKS}/{task.pk}/claim")
    assert claimed.status_code == 200
    assert (claimed.json()["state"], claimed.json()["assignee"]) == ("assigned", "bob")
    assert ids(bob.get(TASKS, {"assignee": "current_user"})) == [task.pk]
    assert ids(bob.get(TASKS, {"candidate_user": "current_user"})) == []
    assert bob.put(f"{TASKS}/{task.pk}/claim").status_code == 200  # claiming twice is fine


def test_claim__refusals_404_when_invisible_403_when_not_a_candidate_409_when_taken(
    api, people, task
):
    # eve (role user) is no candidate, so she cannot even see the task: ids are not probed.
    assert api("eve").put(f"{TASKS}/{task.pk}/claim").status_code == 404
    # ann (role user) started the instance, so she sees its task, but is no candidate.
    refused = api("ann").put(f"{TASKS}/{task.pk}/claim")
    assert refused.status_code == 403
    assert "not a candidate" in refused.json()["detail"]
    # maria (manager) sees every task, but is no candidate either.
    refused = api("maria").put(f"{TASKS}/{task.pk}/claim")
    assert refused.status_code == 403
    api("bob").put(f"{TASKS}/{task.pk}/claim")
    taken = api("carl").put(f"{TASKS}/{task.pk}/claim")
    assert taken.status_code == 409
    assert "bob" in taken.json()["detail"]


def test_unclaim__only_the_assignee_gives_a_task_back(api, people, task):
    api("bob").put(f"{TASKS}/{task.pk}/claim")
    assert api("carl").put(f"{TASKS}/{task.pk}/unclaim").status_code == 403
    back = api("bob").put(f"{TASKS}/{task.pk}/unclaim")
    assert (back.status_code, back.json()["state"], back.json()["assignee"]) == (200, "open", None)
    assert api("bob").put(f"{TASKS}/{task.pk}/unclaim").status_code == 409


def test_complete__refused_before_claiming_and_for_someone_elses_task(api, people, task):
    values = {"variables": {"approved": True}}
    assert api("bob").put(f"{TASKS}/{task.pk}/complete", values, format="json").status_code == 403
    api("bob").put(f"{TASKS}/{task.pk}/claim")
    refused = api("carl").put(f"{TASKS}/{task.pk}/complete", values, format="json")
    assert refused.status_code == 403
    assert "assignee" in refused.json()["detail"]


def test_complete__values_the_form_rejects_are_400_with_field_errors(api, task):
    api("bob").put(f"{TASKS}/{task.pk}/claim")
    bad = {"variables": {"comments": 7, "extra": 1}}
    answer = api("bob").put(f"{TASKS}/{task.pk}/complete", bad, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"approved", "comments", "extra"}
    assert Task.objects.get(pk=task.pk).state == "assigned"
    not_an_object = {"variables": ["approved"]}
    assert (
        api("bob").put(f"{TASKS}/{task.pk}/complete", not_an_object, format="json").status_code
        == 400
    )


def test_complete__moves_the_instance_on_to_completed(api, task):
    bob = api("bob")
    bob.put(f"{TASKS}/{task.pk}/claim")
    values = {"variables": {"approved": True, "comments": "fine"}}
    done = bob.put(f"{TASKS}/{task.pk}/complete", values, format="json")
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["completed_by"]) == ("completed", "bob")
    assert done.json()["result"] == {"approved": True, "comments": "fine"}
    instance = ProcessInstance.objects.get(pk=task.instance_id)
    assert (instance.status, instance.variables["approved"]) == ("completed", True)
    again = bob.put(f"{TASKS}/{task.pk}/complete", values, format="json")
    assert again.status_code == 409


def test_assign__managers_give_a_task_to_anyone_users_may_not(api, people, task):
    refused = api("bob").put(f"{TASKS}/{task.pk}/assign", {"assignee": "bob"}, format="json")
    assert refused.status_code == 403
    unknown = api("maria").put(f"{TASKS}/{task.pk}/assign", {"assignee": "nobody"}, format="json")
    assert (unknown.status_code, list(unknown.json()["errors"])) == (400, ["assignee"])
    given = api("maria").put(f"{TASKS}/{task.pk}/assign", {"assignee": "eve"}, format="json")
    assert (given.status_code, given.json()["assignee"]) == (200, "eve")
    assert ids(api("eve").get(TASKS, {"assignee": "current_user"})) == [task.pk]


def test_list__filters_and_ordering(api, people, approval, task):
    second = Task.objects.get(
        instance=instance_start(definition_key="approval", variables={"amount": 2000})
    )
    now = timezone.now()
    Task.objects.filter(pk=task.pk).update(priority=1, due_date=now + timedelta(days=2))
    Task.objects.filter(pk=second.pk).update(priority=5, due_date=now + timedelta(hours=1))
    manager = api("maria")
    assert ids(manager.get(TASKS, {"candidate_group": "approvers"})) == [second.pk, task.pk]
    assert ids(manager.get(TASKS, {"candidate_group": "nobody"})) == []
    assert ids(manager.get(TASKS, {"process_instance_id": task.instance_id})) == [task.pk]
    assert ids(manager.get(TASKS, {"due_before": (now + timedelta(days=1)).isoformat()})) == [
        second.pk
    ]
    assert ids(manager.get(TASKS, {"ordering": "priority"})) == [task.pk, second.pk]
    assert ids(manager.get(TASKS, {"ordering": "due_date"})) == [second.pk, task.pk]
    assert ids(manager.get(TASKS, {"ordering": "-created"})) == [second.pk, task.pk]
    assert ids(manager.get(TASKS, {"candidate_user": "bob"})) == [second.pk, task.pk]
    assert ids(manager.get(TASKS, {"assignee": "bob"})) == []
    assert ids(api("eve").get(TASKS, {"candidate_user": "bob"})) == []  # not hers to see
    api("bob").put(f"{TASKS}/{task.pk}/claim")
    assert ids(manager.get(TASKS, {"state": "open"})) == [second.pk]
    assert ids(manager.get(TASKS, {"state": "completed"})) == []
    assert manager.get(TASKS, {"ordering": "name"}).status_code == 400
    assert manager.get(TASKS, {"state": "lost"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_claim__two_concurrent_claims_one_200_one_409(api, people, task):
    clients = [api("bob"), api("carl")]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def claim(client):
        try:
            barrier.wait()
            statuses.append(client.put(f"{TASKS}/{task.pk}/claim").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert Task.objects.get(pk=task.pk).assignee.username in {"bob", "carl"}
