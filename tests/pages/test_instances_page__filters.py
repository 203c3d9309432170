"""The cases page: search, filters, keyset pages, and empty versus nothing-matches."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.instance_lists import PAGE_SIZE
from processes.models import ProcessInstance
from processes.services import instance_start
from processes.statuses import InstanceStatus
from tasks.services import task_claim
from tests.pages.cases import case_keys, logged_in
from tests.pages.world import start_expense
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people, expense):
    """Three expenses by the clerk (one suspended), one by clerk2, one of another process."""
    for key in ("INV-100", "INV-200", "TRIP-1"):
        start_expense(by=people["clerk"], key=key)
    start_expense(by=people["clerk2"], key="INV-300")
    look = {"candidate_groups": ["manager"]}
    publish("other-review", [{"id": "look", "name": "Look", "type": "user_task", "config": look}])
    other = instance_start(
        definition_key="other-review", business_key="OTHER-1", user=people["boss"]
    )
    ProcessInstance.objects.filter(business_key="TRIP-1").update(status=InstanceStatus.SUSPENDED)
    return {"other": other}


def test_search__by_part_of_the_business_key_ignoring_case(people, world):
    clerk = logged_in(people["clerk"])
    assert case_keys(clerk.get("/instances/?q=inv-")) == ["INV-200", "INV-100"]
    assert case_keys(logged_in(people["boss"]).get("/instances/?q=inv-")) == [
        "INV-300",
        "INV-200",
        "INV-100",
    ]


def test_search__by_process_name(people, world):
    boss = logged_in(people["boss"])
    assert case_keys(boss.get("/instances/?q=other-rev")) == ["OTHER-1"]
    assert len(case_keys(boss.get("/instances/?q=EXPENSE approval"))) == 4


def test_filter__by_status_and_by_process(people, world):
    boss = logged_in(people["boss"])
    assert case_keys(boss.get("/instances/?status=suspended")) == ["TRIP-1"]
    process = world["other"].definition_id
    assert case_keys(boss.get(f"/instances/?process={process}")) == ["OTHER-1"]
    assert case_keys(boss.get(f"/instances/?process={process}&status=suspended")) == []


def test_filter__the_process_choices_are_the_processes_of_ones_cases(people, world):
    clerk_html = logged_in(people["clerk"]).get("/instances/").content.decode()
    assert ">Expense approval</option>" in clerk_html
    assert ">other-review</option>" not in clerk_html
    other = world["other"].definition_id
    response = logged_in(people["clerk"]).get(f"/instances/?process={other}")
    assert response.status_code == 400  # not one of the choices: said, not ignored
    assert "Select a valid choice" in response.content.decode()


def test_filter__started_by_me_and_waiting_on_me(people, world):
    boss = logged_in(people["boss"])
    assert case_keys(boss.get("/instances/?show=started")) == ["OTHER-1"]
    # Every case waits for the manager group, the boss's: all but none.
    assert len(case_keys(boss.get("/instances/?show=waiting"))) == 5
    clerk = logged_in(people["clerk"])
    assert case_keys(clerk.get("/instances/?show=waiting")) == []

    task = ProcessInstance.objects.get(business_key="INV-100").tasks.get()
    task_claim(task=task, user=people["deputy"])
    assert case_keys(logged_in(people["deputy"]).get("/instances/?show=waiting&q=inv-1")) == [
        "INV-100"
    ]
    assert "INV-100" not in case_keys(boss.get("/instances/?show=waiting"))


def test_empty__says_there_is_nothing_yet(people, expense):
    html = logged_in(people["clerk"]).get("/instances/").content.decode()
    assert "You have not started a process and hold no task yet." in html
    html = logged_in(people["boss"]).get("/instances/").content.decode()
    assert "No process has been started yet." in html


def test_no_match__says_nothing_matches_not_that_there_is_nothing(people, world):
    html = logged_in(people["clerk"]).get("/instances/?q=nothing-like-it").content.decode()
    assert "No case matches “nothing-like-it”." in html
    assert "You have not started" not in html
    html = logged_in(people["clerk"]).get("/instances/?status=failed").content.decode()
    assert "No case matches these filters." in html
    html = logged_in(people["clerk"]).get("/instances/?q=inv&status=failed").content.decode()
    assert "No case matches “inv” with these filters." in html


def test_count__how_many_cases_and_how_many_match(people, world):
    boss = logged_in(people["boss"])
    count = re.compile(r'id="case-count">\s*(.*?)\s*</p>', re.S)
    assert " ".join(count.search(boss.get("/instances/").content.decode())[1].split()) == "5 cases"
    html = boss.get("/instances/?q=inv-3").content.decode()
    assert " ".join(count.search(html)[1].split()) == "1 case matches"


def test_bad_input__answers_400_naming_it(people, world):
    clerk = logged_in(people["clerk"])
    for query, problem in (
        ("status=lost", "Select a valid choice. lost is not one of the available choices."),
        ("show=everything", "Select a valid choice."),
        ("older=not-a-cursor", "This page link is broken"),
        ("newer=99999999999999999999~x", "This page link is broken"),
        ("q=" + "x" * 201, "Ensure this value has at most 200 characters"),
    ):
        response = clerk.get(f"/instances/?{query}")
        assert response.status_code == 400, query
        assert problem in response.content.decode(), query


def test_pages__newest_first_older_then_newer_keeping_the_filters(people, expense):
    now = timezone.now()
    for n in range(PAGE_SIZE + 3):
        start_expense(by=people["clerk"], key=f"K-{n:02}")
    # Two cases started in the same microsecond: the id orders them, none is lost or repeated.
    ProcessInstance.objects.filter(business_key__in=("K-10", "K-11")).update(created_at=now)
    boss = logged_in(people["boss"])
    first = boss.get("/instances/?q=k-")
    keys = case_keys(first)
    assert len(keys) == PAGE_SIZE and "Newer cases" not in first.content.decode()
    older = re.search(r'href="\?q=k-&amp;older=([^"]+)" rel="next"', first.content.decode())[1]
    second = boss.get(f"/instances/?q=k-&older={older}")
    rest = case_keys(second)
    assert len(rest) == 3 and set(keys).isdisjoint(rest)
    assert set(keys) | set(rest) == {f"K-{n:02}" for n in range(PAGE_SIZE + 3)}
    assert "Older cases" not in second.content.decode()
    newer = re.search(r'href="\?q=k-&amp;newer=([^"]+)" rel="prev"', second.content.decode())[1]
    assert case_keys(boss.get(f"/instances/?q=k-&newer={newer}")) == keys


def test_pages__past_the_oldest_says_so(people, expense_task):
    past = f"{(expense_task.instance.created_at - timedelta(days=1)).timestamp():.0f}000000~x"
    html = logged_in(people["clerk"]).get(f"/instances/?older={past}").content.decode()
    assert "No more cases this way." in html
