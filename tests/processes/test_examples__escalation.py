"""The examples' approvals escalate as a real team's do: while the managers do not answer they
are reminded every day (three times at most, each reminder counted in the instance), and after
five days the approval leaves their inbox and goes to the team leads. Time is moved by setting
the timers' due times into the past and sweeping."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from processes.dsl import format_of_file
from processes.models import Timer
from processes.services import definition_publish, instance_start, jobs_sweep
from processes.statuses import TaskState, TimerStatus
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPROVALS = {
    "expense-approval.json": {
        "variables": {"amount": 5000, "description": "conference trip"},
        "approval": "manager_approval",
        "escalated": "team_lead_approval",
        "answer": {"approved": True, "comments": "fine"},
    },
    "leave-request.yaml": {
        "variables": {"employee": "ann", "days": 3, "first_day": "2026-12-01"},
        "approval": "manager_approval",
        "escalated": "team_lead_approval",
        "answer": {"manager_approved": True},
    },
}
REMINDER, ESCALATION = 0, 1  # the approval step's boundary events, in the order written


def start(example: str):
    path = EXAMPLES / example
    version = definition_publish(source=path.read_text(), format=format_of_file(path.name))
    return instance_start(
        definition_key=version.definition.key, variables=APPROVALS[example]["variables"]
    )


def fall_due(instance, boundary: int) -> Timer:
    """The scheduled timer of that boundary event, made due a second ago."""
    timer = Timer.objects.get(instance=instance, boundary=boundary, status=TimerStatus.SCHEDULED)
    Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    return timer


def set_for(timer: Timer) -> timedelta:
    """How long after it was set the timer is due, to the minute."""
    return timedelta(minutes=round((timer.due_at - timer.created_at).total_seconds() / 60))


def sweep() -> int:
    """One beat sweep, then the service steps it made due, run here."""
    fired = jobs_sweep().fired
    run_due_jobs()
    return fired


@pytest.mark.parametrize("example", APPROVALS)
def test_escalation__after_five_days_the_team_leads_approve_instead(example):
    spec = APPROVALS[example]
    instance = start(example)
    approval = Task.objects.get(instance=instance, step_id=spec["approval"])
    assert set_for(Timer.objects.get(instance=instance, boundary=ESCALATION)) == timedelta(days=5)

    fall_due(instance, ESCALATION)
    assert sweep() == 1

    approval.refresh_from_db()
    assert approval.state == TaskState.CANCELLED  # gone from the managers' inbox
    escalated = Task.objects.get(instance=instance, step_id=spec["escalated"])
    assert escalated.state == TaskState.OPEN
    assert [g.name for g in escalated.candidate_groups.all()] == ["team-leads"]
    # The reminders went with the approval they were on.
    assert not Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).exists()

    lead = User.objects.create_user("lead")
    lead.groups.add(Group.objects.get(name="team-leads"))
    task_complete(task=task_claim(task=escalated, user=lead), user=lead, variables=spec["answer"])
    run_due_jobs()
    if example == "leave-request.yaml":  # HR answers after the approval, escalated or not
        operator = User.objects.create_superuser("operator")
        hr = Task.objects.get(instance=instance, step_id="hr_approval")
        task_complete(
            task=task_claim(task=hr, user=operator), user=operator, variables={"hr_approved": True}
        )
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed", instance.error
    assert instance.variables.get("approved", instance.variables.get("leave_status")) in (
        True,
        "approved",
    )


@pytest.mark.parametrize("example", APPROVALS)
def test_reminder__daily_three_times_while_the_approval_waits(example):
    spec = APPROVALS[example]
    instance = start(example)
    assert set_for(Timer.objects.get(instance=instance, boundary=REMINDER)) == timedelta(days=1)

    for sent in (1, 2, 3):
        fall_due(instance, REMINDER)
        assert sweep() == 1
        variables = fresh(instance).variables
        assert variables["reminders_sent"] == sent
        assert variables["last_reminder"].startswith(f"Reminder {sent}: ")
        assert variables["last_reminder"].endswith("still waits for your approval.")

    # Three, then no more: only the escalation is still set, and the approval still waits.
    scheduled = Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED)
    assert [t.boundary for t in scheduled] == [ESCALATION]
    approval = Task.objects.get(instance=instance, step_id=spec["approval"])
    assert approval.state == TaskState.OPEN
    assert (fresh(instance).status, fresh(instance).active_tokens) == ("running", 1)
