"""The inbox's Done tab in a browser: what each task decided, on a desktop and a phone."""

from playwright.sync_api import expect

from tasks.services import task_claim, task_complete
from tests.e2e.conftest import log_in, shoot
from tests.pages.world import start_expense


def test_done_tab__shows_when_who_and_the_decision(page, phone, live_server, people, expense):
    boss = people["boss"]
    for key, approved in (("EXP-1", True), ("EXP-2", False)):
        task = start_expense(by=people["clerk"], key=key)
        task_claim(task=task, user=boss)
        task_complete(task=task, user=boss, variables={"approved": approved, "comments": "ok"})

    for screen, width in ((page, 1280), (phone, 390)):
        log_in(screen, live_server.url, "boss")
        screen.goto(f"{live_server.url}/?tab=done")
        expect(screen.get_by_text("Approved", exact=True)).to_be_visible()
        expect(screen.get_by_text("Rejected", exact=True)).to_be_visible()
        shoot(screen, f"inbox_done_tab_{width}")
        screen.goto(f"{live_server.url}/?tab=done&q=nothing-like-it")
        expect(
            screen.get_by_text("No task you completed matches “nothing-like-it”.")
        ).to_be_visible()
