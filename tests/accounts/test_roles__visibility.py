"""Roles from the migration, object permissions to start, and who sees which instance/task."""

import json

import pytest
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm

from accounts.permissions import can_assign_tasks, can_control_instances, can_publish, can_start
from processes.errors import NotFound
from processes.models import ProcessDefinition
from processes.selectors import (
    definitions_startable_by,
    instance_get_visible,
    instances_visible_to,
)
from processes.services import definition_publish, instance_start
from tasks.models import Task
from tasks.selectors import (
    task_get_visible,
    tasks_assigned_to,
    tasks_claimable_by,
    tasks_visible_to,
)
from tasks.services import task_assign, task_claim

pytestmark = pytest.mark.django_db

REVIEW = {
    "name": "review",
    "steps": [
        {
            "id": "review",
            "type": "user_task",
            "config": {"candidate_groups": ["reviewers"], "candidate_users": ["${owner}"]},
        }
    ],
}


def member(name: str, *groups: str) -> User:
    user = User.objects.create_user(name)
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def world():
    definition_publish(source=json.dumps(REVIEW), format="json")
    people = {
        "boss": member("boss", "manager"),
        "root": member("root", "admin"),
        "ann": member("ann", "user"),
        "bob": member("bob", "user", "reviewers"),
        "eve": member("eve", "user"),
    }
    review = ProcessDefinition.objects.get(key="review")
    assign_perm("processes.start_processdefinition", people["ann"], review)
    instance = instance_start(
        definition_key="review", variables={"owner": "ann"}, user=people["ann"]
    )
    return people, instance, Task.objects.get(instance=instance)


def test_roles__managers_and_admins_have_their_permissions(world):
    people, _, _ = world
    for name in ("boss", "root"):
        user = people[name]
        assert can_publish(user) and can_control_instances(user) and can_assign_tasks(user)
    assert not can_publish(people["ann"]) and not can_control_instances(people["ann"])


def test_start__granted_per_user_or_group_with_guardian(world):
    people, _, _ = world
    definition = ProcessDefinition.objects.get(key="review")
    assert not can_start(people["eve"], definition)
    assert list(definitions_startable_by(user=people["eve"])) == []
    assign_perm(
        "processes.start_processdefinition", Group.objects.get(name="reviewers"), definition
    )
    assert can_start(User.objects.get(username="bob"), definition)
    assert list(definitions_startable_by(user=people["bob"])) == [definition]
    assert can_start(people["boss"], definition)


def test_instances__starter_and_task_holders_see_it_others_get_not_found(world):
    people, instance, _ = world
    for name in ("ann", "bob", "boss"):
        assert instance_get_visible(instance_id=instance.pk, user=people[name]) == instance
    with pytest.raises(NotFound):
        instance_get_visible(instance_id=instance.pk, user=people["eve"])
    assert list(instances_visible_to(user=people["eve"])) == []


def test_tasks__queues_and_visibility(world):
    people, _, task = world
    assert list(tasks_claimable_by(user=people["bob"])) == [task]
    assert list(tasks_claimable_by(user=people["ann"])) == [task]
    assert list(tasks_claimable_by(user=people["eve"])) == []
    with pytest.raises(NotFound):
        task_get_visible(task_id=task.pk, user=people["eve"])
    with pytest.raises(NotFound):
        task_get_visible(task_id="not-a-number", user=people["eve"])
    task_claim(task=task, user=people["bob"])
    assert list(tasks_assigned_to(user=people["bob"])) == [task]
    assert list(tasks_claimable_by(user=people["ann"])) == []
    assert task in tasks_visible_to(user=people["boss"])


def test_assign__a_manager_gives_the_task_to_someone(world):
    people, _, task = world
    assigned = task_assign(task=task, assignee=people["eve"], user=people["boss"])
    assert assigned.assignee == people["eve"]
    assert task_get_visible(task_id=task.pk, user=people["eve"]) == task
