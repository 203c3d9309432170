"""The inbox: three tabs with counts, filters, sorting, paging, claiming with htmx."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.services import instance_start
from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.pages.world import start_expense
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    """The business keys of the inbox rows, in order."""
    return re.findall(r'data-label="Business key">([^<]*)<', response.content.decode())


def count(response, tab: str) -> int:
    return int(re.search(rf'id="count-{tab}"[^>]*>(\d+)<', response.content.decode())[1])


@pytest.fixture
def boss_client(client, people):
    client.force_login(people["boss"])
    return client


def test_inbox__needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_tabs__mine_queue_done_with_counts(boss_client, people, expense):
    mine = start_expense(by=people["clerk"], key="MINE")
    done = start_expense(by=people["clerk"], key="DONE")
    start_expense(by=people["clerk"], key="QUEUE")
    task_claim(task=mine, user=people["boss"])
    task_claim(task=done, user=people["boss"])
    task_complete(task=done, user=people["boss"], variables={"approved": True, "comments": "fine"})

    response = boss_client.get("/")
    assert rows(response) == ["MINE"]
    assert [count(response, tab) for tab in ("mine", "queue", "done")] == [1, 1, 1]
    assert rows(boss_client.get("/?tab=queue")) == ["QUEUE"]
    assert rows(boss_client.get("/?tab=done")) == ["DONE"]


def test_tabs__a_clerk_sees_nothing_of_the_managers_queue(client, people, expense_task):
    client.force_login(people["clerk2"])
    response = client.get("/?tab=queue")
    assert rows(response) == []
    assert "No open tasks wait for your groups" in response.content.decode()


def test_filters__by_process_and_by_text(boss_client, people, expense):
    start_expense(by=people["clerk"], key="INV-100")
    start_expense(by=people["clerk"], key="INV-200")
    look = {"candidate_groups": ["manager"]}
    other = publish(
        "other-review", [{"id": "look", "name": "Look at it", "type": "user_task", "config": look}]
    )
    instance_start(definition_key="other-review", business_key="OTHER-1")

    assert sorted(rows(boss_client.get("/?tab=queue&q=inv-1"))) == ["INV-100"]
    assert rows(boss_client.get("/?tab=queue&q=look at")) == ["OTHER-1"]
    by_process = boss_client.get(f"/?tab=queue&process={other.definition_id}")
    assert rows(by_process) == ["OTHER-1"]
    # A process the user has no task in is not a choice: the filter falls back to all.
    assert len(rows(boss_client.get("/?tab=queue&process=999999"))) == 3


def test_sort__by_priority_due_and_created(boss_client, people, expense):
    tasks = {key: start_expense(by=people["clerk"], key=key) for key in ("A", "B", "C")}
    now = timezone.now()
    Task.objects.filter(pk=tasks["A"].pk).update(priority=1, due_date=now + timedelta(days=3))
    Task.objects.filter(pk=tasks["B"].pk).update(priority=9, due_date=now + timedelta(days=9))
    Task.objects.filter(pk=tasks["C"].pk).update(priority=5, due_date=now + timedelta(days=1))

    assert rows(boss_client.get("/?tab=queue&sort=priority")) == ["B", "C", "A"]
    assert rows(boss_client.get("/?tab=queue&sort=due")) == ["C", "A", "B"]
    assert rows(boss_client.get("/?tab=queue&sort=created")) == ["C", "B", "A"]


def test_overdue__is_marked(boss_client, people, expense_task):
    Task.objects.filter(pk=expense_task.pk).update(due_date=timezone.now() - timedelta(hours=1))
    html = boss_client.get("/?tab=queue").content.decode()
    assert re.search(r'class="overdue">.*<strong>overdue</strong>', html)


def test_paging__25_a_page_keeping_the_filters(boss_client, people, expense):
    for n in range(27):
        start_expense(by=people["clerk"], key=f"K-{n:02}")
    first = boss_client.get("/?tab=queue&sort=created")
    assert len(rows(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert "?tab=queue&amp;sort=created&amp;page=2" in first.content.decode()
    second = boss_client.get("/?tab=queue&sort=created&page=2")
    assert rows(second) == ["K-01", "K-00"]


def test_claim__with_htmx_answers_the_row_and_fresh_counts(boss_client, people, expense_task):
    response = boss_client.post(f"/tasks/{expense_task.pk}/claim/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="task-{expense_task.pk}">')
    assert "Claimed: now in My tasks." in html
    assert re.search(r'id="count-mine" hx-swap-oob="true">1<', html)
    assert re.search(r'id="count-queue" hx-swap-oob="true">0<', html)
    task = Task.objects.get(pk=expense_task.pk)
    assert (task.state, task.assignee) == (TaskState.ASSIGNED, people["boss"])


def test_claim__taken_meanwhile_says_by_whom(boss_client, people, expense_task):
    task_claim(task=expense_task, user=people["deputy"])
    response = boss_client.post(f"/tasks/{expense_task.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "The task is already claimed by deputy." in response.content.decode()
    assert Task.objects.get(pk=expense_task.pk).assignee == people["deputy"]


def test_claim__without_htmx_goes_back_to_the_task_page(boss_client, expense_task):
    response = boss_client.post(f"/tasks/{expense_task.pk}/claim/", follow=True)
    assert response.redirect_chain == [(f"/tasks/{expense_task.pk}/", 302)]
    assert "You claimed this task." in response.content.decode()
