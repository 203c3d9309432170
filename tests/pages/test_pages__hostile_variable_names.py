"""Variables named after dict and str methods are shown as variables on every page and in the
admin, and long or many values are folded rather than printed in full."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from processes.services import definition_publish, instance_start, instance_suspend
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.pages import world

pytestmark = pytest.mark.django_db
people = world.people  # the fixture

METHOD_NAMES = [
    *(name for name in dir(dict) if not name.startswith("_")),
    *(name for name in ("count", "index", "split", "join", "upper", "format", "title")),
]
HOSTILE = {name: [f"value of {name}"] for name in METHOD_NAMES}
HOSTILE["items"] = ["oops"]


@pytest.fixture
def hostile_task(people):
    source = {
        "name": "hostile",
        "steps": [
            {
                "id": "review",
                "type": "user_task",
                "config": {
                    "candidate_users": ["boss"],
                    "form": {"items": "string", "keys": "string", "approved": "boolean"},
                },
            }
        ],
    }
    definition_publish(source=json.dumps(source), format="json")
    instance = instance_start(definition_key="hostile", variables=HOSTILE, user=people["boss"])
    return Task.objects.get(instance=instance)


def login(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def test_every_page_shows_each_variable_by_name(people, hostile_task):
    boss = login("boss")
    instance_page = boss.get(f"/instances/{hostile_task.instance_id}/")
    task_page = boss.get(f"/tasks/{hostile_task.pk}/")
    for response in (instance_page, task_page):
        assert response.status_code == 200
        html = response.content.decode()
        for name in METHOD_NAMES:
            label = name.replace("_", " ").capitalize()
            assert f"<dt>{label}</dt>" in html, name
        assert "value of keys" in html and "oops" in html
    task_claim(task=hostile_task, user=people["boss"])
    done = {"items": "two lines", "keys": "k", "approved": True}
    task_complete(task=hostile_task, user=people["boss"], variables=done)
    completed = boss.get(f"/tasks/{hostile_task.pk}/").content.decode()
    assert "two lines" in completed and "<dt>Items</dt>" in completed
    # The other pages that show a case or its outcome.
    for url in ("/instances/", "/?tab=done", "/definitions/hostile/", "/?tab=mine"):
        assert boss.get(url).status_code == 200, url
    assert "Approved" in boss.get("/?tab=done").content.decode()  # its decision, as a word


def test_repair_form_takes_every_hostile_name(people, hostile_task):
    instance_suspend(instance=hostile_task.instance)
    form = login("boss").get(f"/instances/{hostile_task.instance_id}/variables/")
    html = form.content.decode()
    assert form.status_code == 200
    for name in METHOD_NAMES:
        assert f'name="var-{name}"' in html, name


def test_admin_pages_show_them_too(people, hostile_task):
    root = login("boss")
    root_user = people["boss"]
    root_user.is_superuser = True
    root_user.save()
    instance = hostile_task.instance
    for url in (
        f"/admin/processes/processinstance/{instance.pk}/change/",
        f"/admin/tasks/task/{hostile_task.pk}/change/",
    ):
        response = root.get(url)
        assert response.status_code == 200, url
        if "/tasks/" not in url:  # the task's row holds no variables
            assert "oops" in response.content.decode(), url


def test_long_values_and_many_variables_fold(people):
    source = {
        "name": "big",
        "steps": [{"id": "u", "type": "user_task", "config": {"candidate_users": ["boss"]}}],
    }
    definition_publish(source=json.dumps(source), format="json")
    variables = {"letter": "x" * 100_000} | {f"v{i:04}": i for i in range(2_000)}
    instance = instance_start(definition_key="big", variables=variables, user=people["boss"])
    html = login("boss").get(f"/instances/{instance.pk}/").content.decode()
    assert '<details class="fold">' in html and "Show all" in html
    assert '<details class="more-values">' in html and "Show all 2,001" in html
    # The folded summary is short; the full text is there once, inside the fold.
    assert html.count("x" * 100_000) <= 2
