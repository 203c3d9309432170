"""Start triggers in the admin: the definition shows its active ones with next due time,
last start and last error; managers see every version's on the triggers list. Read-only."""

import re

import pytest
from django.test import Client

from processes.models import Trigger
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db


def publish_report(triggers, **extra):
    return publish("report", [{"id": "done", "type": "end"}], triggers=triggers, **extra)


def test_definition__shows_its_active_triggers_read_only(people):
    publish_report([{"cron": "0 7 * * *"}])
    version = publish_report([{"cron": "0 9 * * MON-FRI"}, {"message": "report-asked"}])
    Trigger.objects.filter(kind="message").update(last_error="invalid variable(s): kind")
    operator = Client()
    operator.force_login(people["boss"])
    page = f"/admin/processes/processdefinition/{version.definition_id}/change/"
    html = operator.get(page).content.decode()
    inline = html[html.index('id="triggers-group"') : html.index('id="versions-group"')]
    specs = re.findall(r'<td class="field-spec">\s*<p>([^<]+)</p>', inline)
    assert specs == ["0 9 * * MON-FRI", "report-asked"]  # not version 1's
    assert "invalid variable(s): kind" in inline
    assert 'name="triggers-0-spec"' not in html  # read-only: no inputs


def test_list__managers_see_every_versions_triggers(people):
    publish_report([{"cron": "0 7 * * *"}])
    publish_report([{"every": "1h"}], description="v2")
    operator = Client()
    operator.force_login(people["boss"])
    answer = operator.get("/admin/processes/trigger/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "0 7 * * *" in html and "1h" in html
    assert operator.get("/admin/processes/trigger/add/").status_code == 403
