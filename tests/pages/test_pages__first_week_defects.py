"""What a first week of real use found on the pages, the admin and the commands: each pinned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from processes.models import ProcessDefinition
from processes.services import definition_publish, instance_start, instance_suspend
from tasks.models import Task
from tasks.services import task_claim
from tests.pages import world
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db
people = world.people  # the fixtures
expense = world.expense
expense_task = world.expense_task
ROOT = Path(__file__).resolve().parents[2]


def login(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def test_timeline__engine_events_are_by_flowdesk_not_by_a_person(people, expense_task):
    html = login("clerk").get(f"/instances/{expense_task.instance_id}/").content.decode()
    assert "Process started</strong> · by clerk" in html
    assert 'Decision taken</strong> · Amount over 1,000? · by <span class="system">Flowdesk' in html
    assert "by clerk" not in html.split("Decision taken", 1)[1]


CAUGHT = {
    "name": "caught",
    "steps": [
        {
            "id": "charge",
            "type": "service_task",
            "config": {
                "service_name": "test",
                "method": "raise",
                "catch": [{"errors": ["States.ALL"], "next": "handle"}],
            },
        },
        {"id": "handle", "type": "user_task", "config": {"candidate_users": ["boss"]}},
    ],
}


def test_instance_page__a_caught_error_is_no_incident(people):
    definition_publish(source=json.dumps(CAUGHT), format="json")
    instance = instance_start(definition_key="caught")
    run_due_jobs()
    assert fresh(instance).status == "running"
    html = login("boss").get(f"/instances/{instance.pk}/").content.decode()
    assert "What went wrong" not in html


def test_task_page__a_suspended_process_offers_neither_claim_nor_approve(people, expense_task):
    instance_suspend(instance=expense_task.instance)
    html = login("boss").get(f"/tasks/{expense_task.pk}/").content.decode()
    assert "The process is suspended" in html
    assert ">Claim</button>" not in html and 'name="approved"' not in html
    task_claim_refused = login("boss").post(f"/tasks/{expense_task.pk}/claim/")
    assert task_claim_refused.status_code in (302, 409)
    assert Task.objects.get(pk=expense_task.pk).assignee is None


def test_task_page__a_claimed_task_of_a_suspended_process_has_no_enabled_form(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    instance_suspend(instance=expense_task.instance)
    html = login("boss").get(f"/tasks/{expense_task.pk}/").content.decode()
    assert "The process is suspended" in html
    assert "<form" not in html.split('id="task-waiting"', 1)[1].split("</section>", 1)[0]


def test_admin__deleting_a_definition_with_instances_says_why(people, expense_task):
    admin = people["boss"]
    admin.is_superuser = True
    admin.save()
    definition = ProcessDefinition.objects.get(key="expense-approval")
    html = (
        login("boss")
        .get(f"/admin/processes/processdefinition/{definition.pk}/delete/")
        .content.decode()
    )
    assert "protected related objects" in html
    assert "1 process instance of it: a definition with instances cannot be deleted" in html
    assert "have permission" not in html


def test_admin__the_jobs_list_opens_on_every_job(people, expense):
    instance_start(
        definition_key="expense-approval", variables={"amount": 10, "description": "pens"}
    )
    run_due_jobs()
    html = login("boss").get("/admin/processes/job/").content.decode()
    assert "2 jobs" in html and "(0 jobs" not in html


def test_admin__reassign_never_offers_the_anonymous_user(people, expense_task):
    User.objects.get_or_create(username="AnonymousUser")
    html = (
        login("boss")
        .post(
            "/admin/tasks/task/",
            {"action": "reassign", "_selected_action": [expense_task.pk]},
        )
        .content.decode()
    )
    assert "boss" in html and "AnonymousUser" not in html


def test_manage_py__commands_run_in_the_development_setup(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env |= {"FLOWDESK_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    command = [sys.executable, "manage.py", "check"]
    refused = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    (tmp_path / "local.env").write_text("DEBUG=1\nSECRET_KEY=written-once-by-make-run\n")
    works = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert works.returncode == 0, works.stderr


def test_a_huge_money_amount_is_shown_not_a_500(people):
    source = {
        "name": "huge",
        "variables": {"amount": {"type": "money", "currency": "EUR"}},
        "steps": [{"id": "u", "type": "user_task", "config": {"candidate_users": ["boss"]}}],
    }
    definition_publish(source=json.dumps(source), format="json")
    instance = instance_start(definition_key="huge", variables={"amount": 10**400})
    task = Task.objects.get(instance=instance)
    for url in (f"/instances/{instance.pk}/", f"/tasks/{task.pk}/"):
        response = login("boss").get(url)
        assert response.status_code == 200 and "000.00 EUR" in response.content.decode()


@pytest.mark.parametrize(
    "typed",
    ['{"a": "\\ud800"}', "[" * 3000 + "]" * 3000, "1" * 5000],
    ids=["lone-surrogate", "too-deep", "too-long-a-number"],
)
def test_json_fields_refuse_what_cannot_be_stored_with_a_400(people, typed):
    source = {
        "name": "doc",
        "variables": {"doc": "object"},
        "steps": [{"id": "u", "type": "user_task", "config": {"candidate_users": ["boss"]}}],
    }
    definition_publish(source=json.dumps(source), format="json")
    start = login("boss").post("/start/doc/", {"var-doc": typed})
    assert start.status_code == 400
    assert "errorlist" in start.content.decode()
    instance = instance_start(definition_key="doc", variables={"doc": {"a": 1}})
    instance_suspend(instance=instance)
    repair = login("boss").post(f"/instances/{instance.pk}/variables/", {"var-doc": typed})
    assert repair.status_code == 400
    assert fresh(instance).variables == {"doc": {"a": 1}}


def test_nul_in_a_key_or_name_is_a_404_or_400_not_a_500(people):
    boss = login("boss")
    for url in ("/definitions/%00/", "/definitions/%00/starters/", "/start/%00/"):
        assert boss.get(url).status_code == 404, url
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(people["boss"])
    source = json.dumps({"name": "n", "steps": [{"id": "e", "type": "end"}]})
    answer = api.post(
        "/api/v1/process-definitions?starter_groups=%00", source, content_type="application/json"
    )
    assert answer.status_code == 400 and answer["Content-Type"] == "application/json"


def test_claim__refused_while_the_process_is_suspended(people, expense_task):
    from processes.errors import Conflict

    instance_suspend(instance=expense_task.instance)
    with pytest.raises(Conflict, match="suspended"):
        task_claim(task=expense_task, user=people["boss"])


def test_timeline__a_boundary_timer_shows_its_due_time_not_its_index(people):
    boundary = [{"type": "timer", "duration": "2d", "next": "late"}]
    source = {
        "name": "late-reply",
        "steps": [
            {
                "id": "ask",
                "type": "user_task",
                "config": {"candidate_users": ["boss"], "boundary": boundary},
                "next": ["done"],
            },
            {"id": "late", "type": "end"},
            {"id": "done", "type": "end"},
        ],
    }
    definition_publish(source=json.dumps(source), format="json")
    instance = instance_start(definition_key="late-reply")
    html = login("boss").get(f"/instances/{instance.pk}/").content.decode()
    assert "Timer set" in html and "Due at" in html
    assert "Boundary" not in html.split('id="timeline-title"', 1)[1]
