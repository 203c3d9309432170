"""An operator fires a scheduled timer now, with a reason: it fires as the sweeper fires it
(an escalation cancels the task and goes on, a reminder starts its path and sets the next
one, a timer step moves on), and the history says who did it and why. Who may not see the
instance gets not-found, who may see but not control it is refused, and a timer that is no
longer scheduled or an instance that does not run is a conflict."""

import pytest
from guardian.shortcuts import assign_perm

from accounts.roles import USER
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.models import Event, Timer
from processes.services import instance_start, instance_suspend
from processes.services.timers import timer_fire_now
from processes.statuses import TaskState, TimerStatus
from tasks.models import Task
from tests.pages import world
from tests.support.definitions import publish
from tests.support.engine import fresh

pytestmark = pytest.mark.django_db
people = world.people  # the shared fixture: clerk, clerk2 (users), boss, deputy (managers)

ESCALATE = {"type": "timer", "duration": "5d", "next": "team_lead"}
REMIND = {"type": "timer", "duration": "1d", "interrupting": False, "repeat": 3, "next": "remind"}


def publish_approval() -> None:
    version = publish(
        "approval",
        [
            {
                "id": "approve",
                "name": "Approve",
                "type": "user_task",
                "config": {"candidate_groups": ["manager"], "boundary": [ESCALATE, REMIND]},
                "next": ["done"],
            },
            {
                "id": "team_lead",
                "name": "Team lead approves",
                "type": "user_task",
                "config": {"candidate_groups": ["team-leads"]},
                "next": ["done"],
            },
            {"id": "remind", "name": "Reminded", "type": "end"},
            {"id": "done", "type": "end"},
        ],
    )
    start = "processes.start_processdefinition"
    assign_perm(start, world.role_group(USER), version.definition)


@pytest.fixture
def approval(people):
    publish_approval()
    return instance_start(definition_key="approval", user=people["clerk"])


def timer_of(instance, boundary: int) -> Timer:
    return Timer.objects.get(instance=instance, boundary=boundary, status=TimerStatus.SCHEDULED)


def test_escalation__fired_now_cancels_the_task_and_hands_it_to_the_team_leads(people, approval):
    escalation = timer_of(approval, 0)
    fired = timer_fire_now(
        timer_id=escalation.pk, reason="  Ann is on leave  ", user=people["boss"]
    )
    assert (fired.pk, fired.status) == (escalation.pk, TimerStatus.FIRED)
    tasks = Task.objects.filter(instance=approval).order_by("id")
    assert [(t.step_id, t.state) for t in tasks] == [
        ("approve", TaskState.CANCELLED),
        ("team_lead", TaskState.OPEN),
    ]
    event = Event.objects.get(instance=approval, type="TIMER_FIRED")
    assert event.actor == people["boss"]
    assert event.payload["by"] == "boss"
    assert event.payload["reason"] == "Ann is on leave"
    assert event.payload["interrupting"] is True
    # The reminder went with the step it was on.
    assert Timer.objects.get(instance=approval, boundary=1).status == TimerStatus.CANCELLED


def test_reminder__fired_now_starts_its_path_and_sets_the_next_reminder(people, approval):
    reminder = timer_of(approval, 1)
    timer_fire_now(timer_id=str(reminder.pk), reason="nudge", user=people["boss"])
    assert Task.objects.get(instance=approval).state == TaskState.OPEN
    nxt = timer_of(approval, 1)
    assert nxt.pk != reminder.pk and nxt.due_at > reminder.due_at
    # The reminder's own path ended at its end; the approval still waits.
    assert (fresh(approval).status, fresh(approval).active_tokens) == ("running", 1)


def test_timer_step__fired_now_moves_on(people):
    publish("cool-off", [{"id": "pause", "type": "timer", "config": {"duration": "2h"}}])
    instance = instance_start(definition_key="cool-off")
    timer_fire_now(
        timer_id=Timer.objects.get(instance=instance).pk, reason="go", user=people["boss"]
    )
    assert fresh(instance).status == "completed"


def test_refusals__not_found_not_allowed_bad_reason(people, approval):
    escalation = timer_of(approval, 0)
    with pytest.raises(NotFound):
        timer_fire_now(timer_id=escalation.pk + 1000, reason="x", user=people["boss"])
    with pytest.raises(NotFound):
        timer_fire_now(timer_id="not-a-number", reason="x", user=people["boss"])
    with pytest.raises(NotFound):  # another user's instance: as if there were no such timer
        timer_fire_now(timer_id=escalation.pk, reason="x", user=people["clerk2"])
    with pytest.raises(NotFound):  # a timer of another instance than the one named
        timer_fire_now(timer_id=escalation.pk, reason="x", user=people["boss"], instance_id="other")
    with pytest.raises(NotAllowed, match="managers and admins"):  # sees it, may not control
        timer_fire_now(timer_id=escalation.pk, reason="x", user=people["clerk"])
    for reason in ("", "   ", None, "x" * 1001, "a\x00b"):
        with pytest.raises(InvalidInput) as refused:
            timer_fire_now(timer_id=escalation.pk, reason=reason, user=people["boss"])
        assert list(refused.value.field_errors) == ["reason"]
    assert timer_of(approval, 0).pk == escalation.pk  # nothing fired
    assert not Event.objects.filter(instance=approval, type="TIMER_FIRED").exists()


def test_conflicts__fired_already_or_instance_suspended(people, approval):
    escalation = timer_of(approval, 0)
    timer_fire_now(timer_id=escalation.pk, reason="late", user=people["boss"])
    with pytest.raises(Conflict, match="fired already"):
        timer_fire_now(timer_id=escalation.pk, reason="again", user=people["boss"])
    with pytest.raises(Conflict, match="cancelled already"):  # the reminder went with its step
        timer_fire_now(timer_id=timer_of_any(approval, 1).pk, reason="x", user=people["boss"])

    publish_approval()
    other = instance_start(definition_key="approval", user=people["clerk"])
    instance_suspend(instance=other)
    with pytest.raises(Conflict, match="suspended: resume it"):
        timer_fire_now(timer_id=timer_of(other, 0).pk, reason="x", user=people["boss"])


def timer_of_any(instance, boundary: int) -> Timer:
    return Timer.objects.get(instance=instance, boundary=boundary)


def test_engine__fires_without_a_person(approval):
    timer_fire_now(timer_id=timer_of(approval, 0).pk, reason="by a script", user=None)
    event = Event.objects.get(instance=approval, type="TIMER_FIRED")
    assert (event.actor, event.payload["by"], event.payload["reason"]) == (
        None,
        None,
        "by a script",
    )
