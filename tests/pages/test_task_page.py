"""The task page: what the task is, its generated form, claim / unclaim / complete, conflicts."""

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from processes.errors import InvalidInput
from processes.services import definition_publish, instance_start, instance_suspend
from processes.statuses import TaskState
from tasks.forms import TaskForm
from tasks.models import Task
from tasks.services import task_assign, task_claim, task_complete
from tests.support.engine import fresh

pytestmark = pytest.mark.django_db

SURVEY = {
    "name": "survey",
    "steps": [
        {
            "id": "answer",
            "name": "Answer the survey",
            "type": "user_task",
            "config": {
                "candidate_groups": ["surveyed"],
                "form": {
                    "nickname": {"type": "string", "label": "Nickname", "min": 3, "max": 12},
                    "story": {"type": "text", "help": "Tell us everything."},
                    "score": {"type": "integer", "required": True, "min": 1, "max": 5},
                    "ratio": {"type": "number", "max": 1.5},
                    "agree": {"type": "boolean", "required": True, "label": "Do you agree?"},
                    "newsletter": {"type": "boolean"},
                    "visit": {"type": "date"},
                    "size": {"type": "choice", "choices": ["S", "M", 42]},
                },
            },
        }
    ],
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def survey_task(people):
    people["clerk"].groups.add(Group.objects.create(name="surveyed"))
    definition_publish(source=json.dumps(SURVEY), format="json")
    task = Task.objects.get(instance=instance_start(definition_key="survey"))
    return task_claim(task=task, user=people["clerk"])


def test_page__shows_the_case_and_the_timeline(people, expense_task):
    html = logged_in(people["boss"]).get(f"/tasks/{expense_task.pk}/").content.decode()
    assert "<h1>Approve the expense</h1>" in html
    assert "Expense approval · EXP-1" in html
    assert re.search(r"<dt>Amount</dt><dd>5,000.00 EUR</dd>", html)
    assert re.search(r"<dt>What it was for</dt><dd>Conference trip</dd>", html)
    assert "Process started" in html and "Decision taken" in html
    assert f'action="/tasks/{expense_task.pk}/claim/"' in html
    assert "/complete/" not in html  # no form before it is claimed


def test_page__another_users_task_is_not_found(people, expense_task):
    stranger = logged_in(people["clerk2"])
    assert stranger.get(f"/tasks/{expense_task.pk}/").status_code == 404
    assert stranger.post(f"/tasks/{expense_task.pk}/claim/").status_code == 404
    assert stranger.post(f"/tasks/{expense_task.pk}/complete/").status_code == 404
    assert stranger.get("/tasks/999999/").status_code == 404


def test_form__generated_from_the_schema(people, survey_task):
    html = logged_in(people["clerk"]).get(f"/tasks/{survey_task.pk}/").content.decode()
    assert re.search(r'<label for="id_nickname">Nickname</label>', html)
    assert re.search(r'<input type="text" name="nickname" maxlength="12" minlength="3"', html)
    assert re.search(r'<textarea name="story"[^>]*aria-describedby="id_story_helptext"', html)
    assert "Tell us everything." in html
    assert re.search(r'<input type="number" name="score" min="1" max="5" required', html)
    assert re.search(r'<input type="number" name="ratio" max="1.5" step="any"', html)
    assert re.search(r'<legend class="required">Do you agree\?</legend>', html)
    assert 'type="radio" name="agree" value="true"' in html
    assert 'type="checkbox" name="newsletter"' in html
    assert 'type="date" name="visit"' in html
    assert '<option value="42">42</option>' in html
    assert "Approve" not in html and '<button type="submit" class="button primary">Complete' in html


def test_form__an_approved_boolean_becomes_approve_and_reject_buttons(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    html = logged_in(people["boss"]).get(f"/tasks/{expense_task.pk}/").content.decode()
    assert '<button type="submit" name="approved" value="true"' in html
    assert '<button type="submit" name="approved" value="false"' in html
    assert 'name="approved" type="checkbox"' not in html and 'type="checkbox"' not in html
    assert re.search(r'<textarea name="comments"[^>]*required', html)


def test_complete__invalid_input_shows_errors_by_the_fields_and_keeps_the_values(
    people, survey_task
):
    typed = {"nickname": "Al", "story": "Once upon a time", "score": "9", "size": "XL"}
    response = logged_in(people["clerk"]).post(f"/tasks/{survey_task.pk}/complete/", typed)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_nickname_error"><li>Ensure this value has at least 3', html)
    assert re.search(r'id="id_score_error"><li>Ensure this value is less than or equal to 5', html)
    assert re.search(r'id="id_agree_error"><li>This field is required', html)
    assert re.search(r'id="id_size_error"><li>Select a valid choice', html)
    assert 'value="Al"' in html and ">\nOnce upon a time</textarea>" in html and 'value="9"' in html
    assert Task.objects.get(pk=survey_task.pk).state == TaskState.ASSIGNED


def test_complete__typed_values_reach_the_instance(people, survey_task):
    values = {"score": "4", "ratio": "0.5", "agree": "false", "visit": "2026-12-24", "size": "42"}
    response = logged_in(people["clerk"]).post(f"/tasks/{survey_task.pk}/complete/", values)
    assert response.status_code == 302 and response["Location"] == "/"
    assert fresh(survey_task.instance).variables == {
        "score": 4,
        "ratio": 0.5,
        "agree": False,
        "newsletter": False,
        "visit": "2026-12-24",
        "size": 42,
    }


def test_complete__approve_with_a_comment(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    boss = logged_in(people["boss"])
    response = boss.post(
        f"/tasks/{expense_task.pk}/complete/", {"approved": "true", "comments": "Fine."}
    )
    assert response.status_code == 302
    assert "Completed “Approve the expense”." in boss.get("/").content.decode()
    task = Task.objects.get(pk=expense_task.pk)
    assert (task.state, task.result) == (
        TaskState.COMPLETED,
        {"approved": True, "comments": "Fine."},
    )


def test_complete__reject_without_a_comment_is_refused(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    response = logged_in(people["boss"]).post(
        f"/tasks/{expense_task.pk}/complete/", {"approved": "false"}
    )
    assert response.status_code == 400
    assert re.search(
        r'id="id_comments_error"><li>This field is required', response.content.decode()
    )


def test_complete__already_completed_meanwhile_says_by_whom(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    task_complete(
        task=expense_task, user=people["boss"], variables={"approved": True, "comments": "x"}
    )
    response = logged_in(people["boss"]).post(
        f"/tasks/{expense_task.pk}/complete/", {"approved": "true", "comments": "again"}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "The task was already completed by boss." in html
    assert "Completed by <strong>boss</strong>" in html
    assert "/complete/" not in html


def test_complete__while_the_process_is_suspended_keeps_the_form(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    instance_suspend(instance=expense_task.instance)
    response = logged_in(people["boss"]).post(
        f"/tasks/{expense_task.pk}/complete/", {"approved": "true", "comments": "keep me"}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "The process instance is suspended; the task cannot complete." in html
    assert ">\nkeep me</textarea>" in html


def test_complete__after_being_reassigned_is_not_allowed(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    task_assign(task=expense_task, assignee=people["deputy"], user=people["boss"])
    response = logged_in(people["boss"]).post(
        f"/tasks/{expense_task.pk}/complete/", {"approved": "true", "comments": "mine?"}
    )
    assert response.status_code == 403
    assert "Only the assignee may complete this task" in response.content.decode()


def test_claim__not_a_candidate_is_not_allowed(people, expense_task):
    # A manager sees every task but only candidates may claim.
    Task.candidate_groups.through.objects.filter(task=expense_task).delete()
    response = logged_in(people["boss"]).post(f"/tasks/{expense_task.pk}/claim/")
    assert response.status_code == 403
    assert "You are not a candidate for this task" in response.content.decode()


def test_unclaim__gives_the_task_back_to_the_queue(people, expense_task):
    task_claim(task=expense_task, user=people["boss"])
    boss = logged_in(people["boss"])
    html = boss.get(f"/tasks/{expense_task.pk}/").content.decode()
    assert f'action="/tasks/{expense_task.pk}/unclaim/"' in html
    response = boss.post(f"/tasks/{expense_task.pk}/unclaim/", follow=True)
    assert "The task is back in its group queue." in response.content.decode()
    assert Task.objects.get(pk=expense_task.pk).state == TaskState.OPEN


def test_unclaim__someone_elses_claim_is_not_allowed(people, expense_task):
    task_claim(task=expense_task, user=people["deputy"])
    response = logged_in(people["boss"]).post(f"/tasks/{expense_task.pk}/unclaim/")
    assert response.status_code == 403
    assert "Only the assignee may give the task back" in response.content.decode()


def test_task_form__service_errors_land_on_their_fields(expense_task):
    form = TaskForm({"approved": "true", "comments": "x"}, schema=expense_task.form)
    assert form.is_valid()
    form.add_service_errors(
        InvalidInput("bad", field_errors={"comments": ["too rude"], "extra": ["unknown"]})
    )
    assert form.errors == {"comments": ["too rude"], "__all__": ["extra: unknown"]}
