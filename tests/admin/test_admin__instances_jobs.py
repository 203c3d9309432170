"""Instances and failed jobs in the admin: filters, history, bulk controls through the services."""

import re

import pytest
from django.test import Client

from processes.models import Job
from processes.services import instance_start, instance_suspend
from processes.statuses import InstanceStatus, JobStatus
from tasks.services import task_claim, task_complete
from tests.pages.world import start_expense
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db

INSTANCES = "/admin/processes/processinstance/"
JOBS = "/admin/processes/job/"


@pytest.fixture
def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])  # a manager with staff access
    return client


@pytest.fixture
def failed_instance():
    publish("fragile", [service_step("charge", "test.raise", input={"error": "CardDeclined"})])
    instance = instance_start(definition_key="fragile", business_key="F-1")
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.FAILED
    return instance


def messages_of(response) -> list[str]:
    return re.findall(r'<li class="(?:success|warning)">([^<]*)</li>', response.content.decode())


def act(client, url: str, action: str, objects) -> list[str]:
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    return messages_of(client.post(url, data, follow=True))


def test_bulk_suspend__two_succeed_one_is_refused_with_the_reason(operator, people, expense):
    first, second, done = (start_expense(by=people["clerk"], key=k) for k in ("A", "B", "C"))
    task_claim(task=done, user=people["boss"])
    task_complete(task=done, user=people["boss"], variables={"approved": True, "comments": "ok"})
    run_due_jobs()  # the notification step: the third instance completes
    assert fresh(done.instance).status == InstanceStatus.COMPLETED

    said = act(operator, INSTANCES, "suspend_selected", [t.instance for t in (first, second, done)])

    assert said == [
        "Suspended: 2 of 3.",
        f"1 refused. {done.instance_id}: cannot suspend an instance that is completed.",
    ]
    statuses = [fresh(t.instance).status for t in (first, second, done)]
    assert statuses == ["suspended", "suspended", "completed"]
    assert "WORKFLOW_SUSPENDED" in event_types(first.instance)


def test_bulk_resume_and_terminate_go_through_the_services(operator, people, expense):
    task = start_expense(by=people["clerk"])
    instance_suspend(instance=task.instance)
    assert act(operator, INSTANCES, "resume_selected", [task.instance]) == ["Resumed: 1 of 1."]
    assert act(operator, INSTANCES, "terminate_selected", [task.instance]) == [
        "Terminated: 1 of 1."
    ]
    assert fresh(task.instance).status == InstanceStatus.CANCELLED


def test_retry__a_failed_instance_runs_its_step_again(operator, failed_instance):
    said = act(operator, INSTANCES, "retry_selected", [failed_instance])
    assert said == ["Retried: 1 of 1."]
    assert fresh(failed_instance).status == InstanceStatus.RUNNING
    job = Job.objects.get(instance=failed_instance)
    assert (job.status, job.attempt) == (JobStatus.SCHEDULED, 2)
    assert event_types(failed_instance)[-2:] == ["WORKFLOW_RETRIED", "TASK_RETRIED"]


def test_controls__a_staff_clerk_has_no_actions(people, failed_instance):
    clerk = Client()
    people["clerk"].is_staff = True
    people["clerk"].save()
    clerk.force_login(people["clerk"])
    assert clerk.get(INSTANCES).status_code == 403
    response = clerk.post(
        INSTANCES, {"action": "retry_selected", "_selected_action": [failed_instance.pk]}
    )
    assert response.status_code == 403
    assert fresh(failed_instance).status == InstanceStatus.FAILED


def test_list__filter_by_status_and_search_by_business_key_or_id(
    operator, people, expense, failed_instance
):
    running = start_expense(by=people["clerk"], key="EXP-42").instance
    failed = operator.get(INSTANCES, {"status__exact": "failed"}).content.decode()
    assert failed_instance.pk in failed and running.pk not in failed
    found = operator.get(INSTANCES, {"q": "exp-4"}).content.decode()
    assert running.pk in found and failed_instance.pk not in found
    by_id = operator.get(INSTANCES, {"q": failed_instance.pk[:8]}).content.decode()
    assert failed_instance.pk in by_id and running.pk not in by_id


def test_view__the_history_inline_read_only(operator, failed_instance):
    html = operator.get(f"{INSTANCES}{failed_instance.pk}/change/").content.decode()
    assert "History" in html
    assert re.findall(r'<td class="field-type">\s*<p>([^<]+)</p>', html) == [
        "Workflow Started",
        "Task Scheduled",
        "Task Failed",
        "Workflow Failed",
    ]
    assert 'name="_save"' not in html and "<textarea" not in html


def test_view__the_tokens_inline_shows_each_step_with_its_status_and_holder(
    operator, failed_instance
):
    html = operator.get(f"{INSTANCES}{failed_instance.pk}/change/").content.decode()
    cells = {
        name: re.findall(rf'<td class="field-{name}">\s*<p>([^<]+)</p>', html)
        for name in ("node_id", "status", "holder")
    }
    assert cells == {"node_id": ["charge"], "status": ["Failed"], "holder": ["Job"]}


def test_incidents__failed_jobs_with_error_and_traceback_then_retry(operator, failed_instance):
    html = operator.get(JOBS, {"status": "failed"}).content.decode()
    assert "CardDeclined" in html and "it went wrong" in html
    assert re.search(r"<details><summary>Show</summary><pre class=\"traceback\">Traceback", html)

    job = Job.objects.get(instance=failed_instance)
    assert act(operator, JOBS, "retry_instances", [job]) == ["Retried: 1 of 1."]
    assert fresh(failed_instance).status == InstanceStatus.RUNNING
    assert str(job.pk) not in re.findall(
        r"/admin/processes/job/(\d+)/change/",
        operator.get(JOBS, {"status": "failed"}).content.decode(),
    )
    every = operator.get(JOBS).content.decode()  # the list opens on every job
    assert f"/admin/processes/job/{job.pk}/change/" in every
