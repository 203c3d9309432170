"""The cases page renders in a constant number of SQL queries, however many cases it lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import MANAGER, USER
from processes.models import ProcessInstance
from tests.pages.bulk import expense_tasks_create
from tests.pages.cases import case_rows, logged_in
from tests.pages.world import role_group

pytestmark = pytest.mark.django_db

# Session, user, their permissions (user's, groups'), the capped count, the rows, and for the
# page's rows only: starters, current tokens, open tasks with assignees, candidate users,
# candidate groups; the process filter's choices.
CASES_QUERIES = 12
URLS = {
    "/instances/": 0,
    "/instances/?status=running": 0,
    "/instances/?show=waiting": 0,
    "/instances/?show=started&process={process}": 1,  # the choice is checked against the list
    "/instances/?q=bulk": 1,  # the processes whose name matches, as ids
}


def queries_per_url(client, process_id: int) -> dict[str, int]:
    client.get("/instances/")  # each process reads a version's graph once, then keeps it
    counts = {}
    for url, extra in URLS.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url.format(process=process_id))
        assert len(case_rows(response)) > 0, url
        counts[url] = len(captured) - extra
    return counts


def cases_create(user, role: str, count: int) -> None:
    """`count` expenses `user` started: half assigned to them, half open for their role."""
    half = count // 2
    expense_tasks_create(user=user, group=role_group(role), assigned=half, queued=count - half)
    ProcessInstance.objects.filter(started_by=None).update(started_by=user)


@pytest.mark.parametrize(("who", "role"), [("clerk", USER), ("boss", MANAGER)])
def test_cases__same_queries_for_3_cases_and_for_300(people, expense, who, role):
    user = people[who]
    client = logged_in(user)
    cases_create(user, role, 3)
    few = queries_per_url(client, expense.pk)
    cases_create(user, role, 297)
    many = queries_per_url(client, expense.pk)

    assert len(case_rows(client.get("/instances/"))) == 25
    assert few == many == dict.fromkeys(URLS, CASES_QUERIES)
