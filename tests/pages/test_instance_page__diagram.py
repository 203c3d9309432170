"""The instance page's diagram costs the same number of queries however long its history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.diagram import instance_diagram
from tasks.services import task_claim, task_unclaim
from tests.pages.world import start_expense

pytestmark = pytest.mark.django_db


def queries_for(instance, user) -> int:
    instance.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        instance_diagram(instance=instance, user=user)
    return len(queries)


def test_diagram__a_fixed_number_of_queries(people, expense):
    short = start_expense(by=people["clerk"], key="EXP-1")
    long = start_expense(by=people["clerk"], key="EXP-2")
    for _ in range(5):  # more events
        task_claim(task=long, user=people["boss"])
        long.refresh_from_db()
        task_unclaim(task=long, user=people["boss"])
        long.refresh_from_db()
    queries_for(short.instance, people["clerk"])  # the graph cache warmed
    assert queries_for(short.instance, people["clerk"]) == queries_for(
        long.instance, people["clerk"]
    )


def test_diagram__a_task_the_user_may_not_see_has_no_link(people, expense_task):
    diagram = instance_diagram(instance=expense_task.instance, user=people["clerk2"])
    (step,) = diagram.steps
    assert step.work[0].url is None
    assert diagram.definition_url is not None  # clerk2 may start the process all the same
