"""The inbox renders in a constant number of SQL queries, however many tasks it holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import MANAGER
from tests.pages.bulk import expense_tasks_create
from tests.pages.world import role_group

pytestmark = pytest.mark.django_db

# Session, user, the process filter's choices, the three tab counts, the page's count, its rows.
INBOX_QUERIES = 8
# Each URL and the queries it adds: a chosen process is checked to be one of the choices;
# the Done tab reads its page's outcomes (the JSON results) apart from the rows.
URLS = {
    "/": 0,
    "/?tab=queue": 0,
    "/?tab=done&sort=priority": 1,
    "/?tab=queue&q=bulk-0&sort=created": 0,
    "/?tab=queue&process={process}": 1,
}


def queries_per_url(client, process_id: int) -> dict[str, int]:
    client.get("/?tab=done")  # each process reads a version's graph once, then keeps it
    counts = {}
    for url, extra in URLS.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url.format(process=process_id))
        assert response.status_code == 200
        shown = min(25, response.context["page"].paginator.count)
        assert response.content.count(b"<tr id=") == shown > 0
        counts[url] = len(captured) - extra
    return counts


def test_inbox__same_queries_for_3_tasks_and_for_10_000(client, people, expense):
    boss, manager = people["boss"], role_group(MANAGER)
    client.force_login(boss)

    expense_tasks_create(user=boss, group=manager, assigned=1, queued=1, completed=1)
    few = queries_per_url(client, expense.pk)
    expense_tasks_create(user=boss, group=manager, assigned=5000, queued=5000, completed=100)
    many = queries_per_url(client, expense.pk)

    assert few == many == dict.fromkeys(URLS, INBOX_QUERIES)
