"""Tasks in the admin: filters (state, assignee, overdue) and the Reassign action."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim
from tests.pages.world import start_expense
from tests.support.engine import event_types

pytestmark = pytest.mark.django_db

TASKS = "/admin/tasks/task/"


@pytest.fixture
def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])
    return client


def listed(response) -> list[int]:
    return sorted(
        int(pk) for pk in re.findall(r"/admin/tasks/task/(\d+)/change/", response.content.decode())
    )


def test_filters__state_assignee_and_overdue(operator, people, expense):
    late, claimed, fresh_one = (start_expense(by=people["clerk"], key=k) for k in ("L", "C", "F"))
    Task.objects.filter(pk=late.pk).update(due_date=timezone.now() - timedelta(days=1))
    task_claim(task=claimed, user=people["deputy"])

    assert listed(operator.get(TASKS, {"overdue": "yes"})) == [late.pk]
    assert listed(operator.get(TASKS, {"overdue": "no"})) == sorted([claimed.pk, fresh_one.pk])
    assert listed(operator.get(TASKS, {"state__exact": "assigned"})) == [claimed.pk]
    deputy = people["deputy"].pk
    assert listed(operator.get(TASKS, {"assignee__id__exact": deputy})) == [claimed.pk]


def test_reassign__asks_for_the_assignee_then_assigns_each_task(operator, people, expense):
    tasks = [start_expense(by=people["clerk"], key=k) for k in ("A", "B")]
    selected = {"action": "reassign", "_selected_action": [t.pk for t in tasks]}

    page = operator.post(TASKS, selected)
    assert page.status_code == 200
    assert '<select name="assignee"' in page.content.decode()

    response = operator.post(
        TASKS, {**selected, "apply": "Reassign", "assignee": people["deputy"].pk}, follow=True
    )
    assert "Reassigned to deputy: 2 of 2." in response.content.decode()
    for task in tasks:
        task = Task.objects.get(pk=task.pk)
        assert (task.state, task.assignee) == (TaskState.ASSIGNED, people["deputy"])
        assert event_types(task.instance)[-1] == "TASK_ASSIGNED"


def test_reassign__a_finished_task_is_refused_with_the_reason(operator, people, expense):
    task = start_expense(by=people["clerk"])
    Task.objects.filter(pk=task.pk).update(state=TaskState.CANCELLED)
    data = {"action": "reassign", "_selected_action": [task.pk], "apply": "1"}
    response = operator.post(TASKS, {**data, "assignee": people["deputy"].pk}, follow=True)
    assert (
        f"1 refused. {Task.objects.get(pk=task.pk)}: the task was cancelled."
        in response.content.decode()
    )
