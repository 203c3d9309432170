"""A list page costs the same SQL queries whatever its size: no query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.services import instance_start
from tasks.models import Task
from tasks.services import task_claim
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db

ROWS = 12


@pytest.fixture
def many(approval, people):
    for n in range(ROWS):
        instance_start(
            definition_key="approval",
            variables={"amount": 5000},
            business_key=f"B-{n}",
            user=people["ann"],
        )
    for task in Task.objects.all()[: ROWS // 2]:
        task_claim(task=task, user=people["bob"])
    for n in range(ROWS):
        publish(f"other-{n}", [{"id": "end", "type": "end"}])


def queries(client, path: str, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path, query)
    assert answer.status_code == 200
    assert answer.json()["results"]
    return len(captured)


@pytest.mark.parametrize(
    ("who", "path", "query"),
    [
        ("bob", "/api/v1/tasks", {"assignee": "current_user"}),
        ("bob", "/api/v1/tasks", {"candidate_user": "current_user"}),
        ("maria", "/api/v1/tasks", {}),
        ("ann", "/api/v1/process-instances", {}),
        ("maria", "/api/v1/process-instances", {}),
        ("maria", "/api/v1/process-definitions", {}),
    ],
)
def test_lists__one_row_or_a_full_page_cost_the_same_queries(api, many, who, path, query):
    client = api(who)
    client.get(path, query)  # the first request fills Django's caches (content types...)
    assert queries(client, path, size=1, **query) == queries(client, path, size=ROWS, **query)
