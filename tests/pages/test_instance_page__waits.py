"""The instance page's "Waiting for" panel: each scheduled timer with its step, which boundary
event it is, its due time in words and in ISO 8601, and whether it is overdue; an operator
fires one now from there with a reason (a form with CSRF), which the timeline then shows."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from processes.models import Event, Timer
from processes.services import instance_suspend
from processes.statuses import TaskState, TimerStatus
from tasks.models import Task

pytestmark = pytest.mark.django_db


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def waits_panel(client, instance) -> str:
    html = client.get(f"/instances/{instance.pk}/").content.decode()
    start = html.index('id="waits"')
    return html[start : html.index("</section>", start)]


def fire_url(instance, timer) -> str:
    return f"/instances/{instance.pk}/timers/{timer.pk}/fire/"


def test_panel__each_timer_with_its_step_kind_and_due_time(people, expense_task):
    instance = expense_task.instance
    reminder, escalation = Timer.objects.filter(instance=instance).order_by("boundary")
    panel = waits_panel(logged_in(people["clerk"]), instance)
    rows = re.findall(r'<tr id="wait-timer-(\d+)">(.*?)</tr>', panel, re.S)
    assert [int(pk) for pk, _ in rows] == [reminder.pk, escalation.pk]  # soonest due first
    first, second = (row for _, row in rows)
    assert "Non-interrupting timer (1 of 3)" in first and "→ Remind the managers" in first
    assert "Interrupting timer" in second and "→ Approve the expense (escalated)" in second
    assert ">Approve the expense<" in first and ">Approve the expense<" in second
    iso = timezone.localtime(escalation.due_at).replace(microsecond=0).isoformat()
    assert f'<time datetime="{iso}">' in second and f'<code class="iso">{iso}</code>' in second
    assert re.search(r"in 4\xa0days, 23\xa0hours|in 5\xa0days", second)
    assert "overdue" not in panel
    assert "Fire now" not in panel  # a clerk may see, not fire


def test_panel__an_overdue_timer_is_marked(people, expense_task):
    instance = expense_task.instance
    instance_suspend(instance=instance)  # so no sweep fires it meanwhile
    Timer.objects.filter(instance=instance, boundary=1).update(
        due_at=timezone.now() - timedelta(hours=3)
    )
    panel = waits_panel(logged_in(people["boss"]), instance)
    escalation = re.search(
        r'<tr id="wait-timer-\d+">((?:(?!</tr>).)*Interrupting.*?)</tr>', panel, re.S
    )
    assert 'class="overdue"' in escalation.group(1)
    assert re.search(r"<strong>overdue</strong> by 3\xa0hours", escalation.group(1))
    assert "Fire now" not in panel  # suspended: its timers fire on resume, not now


def test_fire_now__an_operator_escalates_with_a_reason(people, expense_task):
    instance = expense_task.instance
    escalation = Timer.objects.get(instance=instance, boundary=1)
    boss = logged_in(people["boss"], enforce_csrf_checks=True)
    panel = waits_panel(boss, instance)
    form = re.search(
        rf'<form method="post" action="{fire_url(instance, escalation)}">(.*?)</form>', panel, re.S
    )
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert re.search(r'<input type="text" [^>]*name="reason" required', form.group(1))

    # Without the token the form's POST is refused; with it, the timer fires.
    assert boss.post(fire_url(instance, escalation), {"reason": "x"}).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    response = boss.post(
        fire_url(instance, escalation),
        {"reason": "Managers are at the offsite", "csrfmiddlewaretoken": token},
        follow=True,
    )
    html = response.content.decode()
    assert "Timer fired; the timeline shows it with your reason." in html
    assert Timer.objects.get(pk=escalation.pk).status == TimerStatus.FIRED
    assert Task.objects.get(pk=expense_task.pk).state == TaskState.CANCELLED
    timeline = html[html.index('id="timeline-title"') :]
    fired = re.search(r"<strong>Timer fired</strong>(.*?)</li>", timeline, re.S).group(1)
    assert "by boss" in fired and "Managers are at the offsite" in fired
    assert "<dt>By</dt>" not in fired  # the person shows once, as who did it


def test_fire_now__refusals(people, expense_task):
    instance = expense_task.instance
    escalation = Timer.objects.get(instance=instance, boundary=1)
    url = fire_url(instance, escalation)
    assert logged_in(people["clerk"]).post(url, {"reason": "x"}).status_code == 403
    assert logged_in(people["clerk2"]).post(url, {"reason": "x"}).status_code == 404
    boss = logged_in(people["boss"])
    assert boss.get(url).status_code == 405
    other = f"/instances/{instance.pk}/timers/{escalation.pk + 1000}/fire/"
    assert boss.post(other, {"reason": "x"}).status_code == 404

    html = boss.post(url, {"reason": "  "}, follow=True).content.decode()
    assert "Reason: give the reason, for the history." in html
    assert Timer.objects.get(pk=escalation.pk).status == TimerStatus.SCHEDULED
    assert not Event.objects.filter(instance=instance, type="TIMER_FIRED").exists()


def test_panel__a_finished_instance_waits_for_nothing(people, expense_task):
    boss = logged_in(people["boss"])
    boss.post(f"/instances/{expense_task.instance_id}/terminate/")
    html = boss.get(f"/instances/{expense_task.instance_id}/").content.decode()
    assert 'id="waits"' not in html
