"""The inbox's Done tab: when each task was completed, by whom, and what it decided; and
every tab tells "nothing here" apart from "nothing matches"."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.services import instance_start
from tasks.services import task_claim, task_complete
from tasks.templatetags.flowdesk import outcome
from tests.pages.cases import logged_in
from tests.pages.world import start_expense
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db

CELL = r'<td data-label="{}">(.*?)</td>'


def cell(html: str, label: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(CELL.format(label), html, re.S)[1]).split())


def complete(task, user, **values):
    task_claim(task=task, user=user)
    return task_complete(task=task, user=user, variables=values)


def test_done__when_by_whom_and_the_decision(people, expense):
    boss = people["boss"]
    complete(start_expense(by=people["clerk"], key="YES"), boss, approved=True, comments="ok")
    complete(start_expense(by=people["clerk"], key="NO"), boss, approved=False, comments="no")

    html = logged_in(boss).get("/?tab=done&sort=created").content.decode()
    assert re.findall(CELL.format("Outcome"), html) == [
        '<span><span class="badge failed">Rejected</span></span>',
        '<span><span class="badge completed">Approved</span></span>',
    ]
    assert cell(html, "By") == "boss"
    assert re.search(r'data-label="Completed"><time datetime="\d{4}-', html)
    assert '<th scope="col">Outcome</th>' in html and '<th scope="col">Priority</th>' not in html
    assert 'data-label="Due"' not in html


def test_done__other_forms_show_their_first_values_readably(people, expense):
    form = {
        "reference": {"type": "string"},
        "amount": {"type": "number"},
        "size": {"type": "choice", "choices": ["S", "M"]},
        "on": {"type": "date"},
        "notes": {"type": "text"},
    }
    config = {"candidate_users": ["clerk"], "form": form}
    publish("fill-in", [{"id": "fill", "name": "Fill in", "type": "user_task", "config": config}])
    instance = instance_start(definition_key="fill-in", business_key="F-1", user=people["boss"])
    values = {"reference": "R-" + "9" * 60, "amount": 12500, "size": "M", "on": "2026-03-01"}
    complete(instance.tasks.get(), people["clerk"], **values, notes="x")

    outcome = cell(logged_in(people["clerk"]).get("/?tab=done").content.decode(), "Outcome")
    # The first three in the form's order, a long value cut short.
    assert outcome.startswith("Reference: R-999")
    assert outcome.endswith("… Amount: 12,500 Size: M and 2 more")
    assert "9" * 60 not in outcome
    assert "{" not in outcome


def test_done__lists_and_mappings_read_as_words_not_json():
    assert outcome({"tags": ["a", "b"], "extra": {"k": 1, "j": 2}, "rows": [{"a": 1}]}) == {
        "decision": "",
        "values": [("Tags", "a, b"), ("Extra", "2 fields"), ("Rows", "1 item")],
        "more": 0,
    }
    assert outcome({"approved": False, "comments": "no"})["decision"] == "Rejected"
    assert outcome(None) == {"decision": "", "values": [], "more": 0}


def test_done__the_rows_query_still_leaves_the_results_out(people, expense):
    complete(
        start_expense(by=people["clerk"], key="YES"), people["boss"], approved=True, comments="ok"
    )
    with CaptureQueriesContext(connection) as captured:
        logged_in(people["boss"]).get("/?tab=done")
    with_results = [q["sql"] for q in captured if '"tasks_task"."result"' in q["sql"]]
    assert len(with_results) == 1 and "ORDER BY" not in with_results[0]


def test_no_match__each_tab_says_nothing_matches_the_search(people, expense):
    boss = people["boss"]
    complete(start_expense(by=people["clerk"], key="DONE-1"), boss, approved=True, comments="ok")
    task_claim(task=start_expense(by=people["clerk"], key="MINE-1"), user=boss)
    start_expense(by=people["clerk"], key="QUEUE-1")
    client = logged_in(boss)

    for tab, says in (
        ("done", "No task you completed matches “zzz”."),
        ("mine", "No task assigned to you matches “zzz”."),
        ("queue", "No open task for your groups matches “zzz”."),
    ):
        html = client.get(f"/?tab={tab}&q=zzz").content.decode()
        assert says in html, tab
        assert "You have not completed any task yet" not in html
        assert "Nothing assigned to you" not in html and "No open tasks wait" not in html


def test_no_match__by_process_names_the_process(people, expense):
    task_claim(task=start_expense(by=people["clerk"], key="MINE-1"), user=people["deputy"])
    html = logged_in(people["deputy"]).get(f"/?tab=done&process={expense.pk}").content.decode()
    assert "No task you completed matches the process Expense approval." in html


def test_empty__the_done_tab_without_a_search(people, expense):
    html = logged_in(people["boss"]).get("/?tab=done").content.decode()
    assert "You have not completed any task yet." in html


def test_done__newest_completed_first_unless_sorted_otherwise(people, expense):
    first, second = (start_expense(by=people["clerk"], key=key) for key in ("OLD", "NEW"))
    for task in (first, second):
        complete(task, people["boss"], approved=True, comments="ok")
    html = logged_in(people["boss"]).get("/?tab=done").content.decode()
    assert html.index("NEW") < html.index("OLD")
