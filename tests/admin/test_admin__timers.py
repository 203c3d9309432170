"""An instance's timers in the admin: read-only, with their step, which boundary event they
are, status, due time and whether overdue; operators fire scheduled ones now with a reason
(the Timers list's action, which asks for it first)."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.roles import MANAGER, MANAGER_PERMISSIONS
from processes.models import Event, Timer
from processes.services import instance_start
from processes.statuses import TimerStatus
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db


def test_view__the_timers_inline_shows_step_status_and_due_time(people):
    publish("cool-off", [{"id": "pause", "type": "timer", "config": {"duration": "2h"}}])
    instance = instance_start(definition_key="cool-off")
    operator = Client()
    operator.force_login(people["boss"])
    html = operator.get(f"/admin/processes/processinstance/{instance.pk}/change/").content.decode()
    assert "Timers" in html
    timers = html[html.index('id="timers-group"') : html.index('id="events-group"')]
    assert re.findall(r'<td class="field-step_id">\s*<p>([^<]+)</p>', timers) == ["pause"]
    assert "Scheduled" in re.findall(r'<td class="field-status">\s*<p>([^<]+)</p>', timers)
    assert re.search(r'<td class="field-due_at">\s*<p>[^<-]+</p>', timers)
    assert 'name="timers-0-due_at"' not in html  # read-only: no inputs


def test_roles__after_migrating_managers_hold_every_listed_permission_timers_included():
    manager = Group.objects.get(name=MANAGER)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in manager.permissions.all()}
    assert held == set(MANAGER_PERMISSIONS)
    assert "processes.view_timer" in held


TIMERS = "/admin/processes/timer/"


def operator_client(people) -> Client:
    operator = Client()
    operator.force_login(people["boss"])
    return operator


def test_inline__names_boundary_timers_by_kind_marks_overdue_links_to_fire(people, expense_task):
    instance = expense_task.instance
    Timer.objects.filter(instance=instance, boundary=0).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    html = (
        operator_client(people)
        .get(f"/admin/processes/processinstance/{instance.pk}/change/")
        .content.decode()
    )
    timers = html[html.index('id="timers-group"') : html.index('id="events-group"')]
    labels = re.findall(r'<td class="field-event">\s*<p>([^<]+)</p>', timers)
    assert labels == [
        "Non-interrupting timer (repeats 3 times) → Remind the managers",
        "Interrupting timer → Approve the expense (escalated)",
    ]
    overdue = re.findall(r'<td class="field-overdue">\s*<p><img [^>]*alt="(\w+)"', timers)
    assert overdue == ["True", "False"]
    fire = f"{TIMERS}?instance__id__exact={instance.pk}&amp;status__exact=scheduled"
    assert timers.count(f'<a href="{fire}">Fire now…</a>') == 2


def test_action__fire_now_asks_for_a_reason_then_fires_each(people, expense_task):
    instance = expense_task.instance
    escalation = Timer.objects.get(instance=instance, boundary=1)
    operator = operator_client(people)
    listed = operator.get(
        TIMERS, {"instance__id__exact": instance.pk, "status__exact": "scheduled"}
    )
    assert listed.status_code == 200 and "Fire the selected timers now…" in listed.content.decode()

    chosen = {"action": "fire_now", ACTION_CHECKBOX_NAME: [escalation.pk]}
    asked = operator.post(TIMERS, chosen)
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert Timer.objects.get(pk=escalation.pk).status == TimerStatus.SCHEDULED

    blank = operator.post(TIMERS, {**chosen, "post": "yes", "reason": " "})
    assert "This field is required." in blank.content.decode()
    assert Timer.objects.get(pk=escalation.pk).status == TimerStatus.SCHEDULED

    done = operator.post(TIMERS, {**chosen, "post": "yes", "reason": "offsite"}, follow=True)
    assert "Fired: 1 of 1." in done.content.decode()
    assert Timer.objects.get(pk=escalation.pk).status == TimerStatus.FIRED
    event = Event.objects.get(instance=instance, type="TIMER_FIRED")
    assert (event.actor, event.payload["reason"]) == (people["boss"], "offsite")

    again = operator.post(TIMERS, {**chosen, "post": "yes", "reason": "again"}, follow=True)
    assert re.search(
        r"1 refused\. timer \d+ [^:]+: timer \d+ is fired already\.", again.content.decode()
    )
