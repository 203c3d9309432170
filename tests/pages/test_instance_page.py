"""The instance page: status, variables, open tasks, timeline; managers' controls."""

import re

import pytest
from django.test import Client

from processes.statuses import InstanceStatus
from tasks.services import task_claim
from tests.support.engine import fresh

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, instance) -> str:
    response = client.get(f"/instances/{instance.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_page__status_variables_open_tasks_and_timeline(people, expense_task):
    html = page(logged_in(people["clerk"]), expense_task.instance)
    assert re.search(r'id="instance-status">Running<', html)
    assert "<dt>Amount</dt><dd>5,000.00 EUR</dd>" in html  # a money variable in euros
    assert re.search(r"Approve the expense\s*—\s*waiting for manager", html)
    assert "Process started" in html and "Step started" in html
    assert "/suspend/" not in html  # a clerk has no controls

    task_claim(task=expense_task, user=people["boss"])
    assert "assigned to <strong>boss</strong>" in page(
        logged_in(people["clerk"]), expense_task.instance
    )


def test_page__another_users_instance_is_not_found(people, expense_task):
    stranger = logged_in(people["clerk2"])
    assert stranger.get(f"/instances/{expense_task.instance_id}/").status_code == 404
    assert stranger.post(f"/instances/{expense_task.instance_id}/suspend/").status_code == 404


def test_controls__a_manager_suspends_and_resumes(people, expense_task):
    boss = logged_in(people["boss"])
    instance = expense_task.instance
    html = page(boss, instance)
    assert f'action="/instances/{instance.pk}/suspend/"' in html
    assert f'action="/instances/{instance.pk}/resume/"' not in html

    response = boss.post(f"/instances/{instance.pk}/suspend/", follow=True)
    assert "Suspended: no step runs until it is resumed." in response.content.decode()
    assert fresh(instance).status == InstanceStatus.SUSPENDED
    assert f'action="/instances/{instance.pk}/resume/"' in response.content.decode()


def test_controls__a_refused_transition_says_why(people, expense_task):
    instance = expense_task.instance
    response = logged_in(people["boss"]).post(f"/instances/{instance.pk}/resume/", follow=True)
    assert "Cannot resume an instance that is running." in response.content.decode()
    assert fresh(instance).status == InstanceStatus.RUNNING


def test_controls__a_clerk_is_not_allowed(people, expense_task):
    response = logged_in(people["clerk"]).post(f"/instances/{expense_task.instance_id}/terminate/")
    assert response.status_code == 403
    assert "Only managers and admins may terminate" in response.content.decode()
    assert fresh(expense_task.instance).status == InstanceStatus.RUNNING
