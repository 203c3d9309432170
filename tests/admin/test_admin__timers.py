"""An instance's timers in the admin: read-only, with their step, status and due time."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import MANAGER, MANAGER_PERMISSIONS
from processes.services import instance_start
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
