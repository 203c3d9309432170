"""Definitions in the admin: publish by upload or paste, problems shown, versions read-only."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from processes.models import DefinitionVersion, ProcessDefinition
from tests.pages.world import EXPENSE_SOURCE, start_expense
from tests.support.definitions import publish, service_step

pytestmark = pytest.mark.django_db

ADD = "/admin/processes/processdefinition/add/"
BROKEN = """\
{
  "name": "broken",
  "steps": [
    {"id": "a", "type": "service_task", "config": {"service_name": "nope"}, "next": ["b"]},
    {"id": "c", "type": "warp_drive"}
  ]
}
"""
YAML = """\
kind: WorkflowDefinition
metadata:
  name: pasted-flow
spec:
  startAt: only
  states:
    - name: only
      type: succeed
"""


@pytest.fixture
def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])  # a manager with staff access
    return client


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def test_publish__an_invalid_file_shows_every_problem_and_keeps_the_text(operator):
    response = operator.post(ADD, {"file": upload("broken.json", BROKEN), "format": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The definition has 4 problems; nothing was published." in html
    problems = re.findall(r"<tr>\s*<td>(\d*)</td>\s*<td><code>([^<]*)</code>", html)
    assert ("4", "/steps/0/config/service_name") in problems
    assert ("4", "/steps/0/next/0") in problems
    assert ("5", "/steps/1/type") in problems
    assert ("5", "/steps/1") in problems  # unreachable
    assert [line for line, _ in problems] == ["4", "4", "5", "5"]
    assert "&quot;warp_drive&quot;" in html  # the uploaded text, back in the box to fix
    assert not ProcessDefinition.objects.exists()


def test_publish__a_valid_file_then_its_next_version(operator):
    response = operator.post(ADD, {"file": upload("expense.json", EXPENSE_SOURCE.read_text())})
    definition = ProcessDefinition.objects.get(key="expense-approval")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/processes/processdefinition/{definition.pk}/change/"

    changed = json.loads(EXPENSE_SOURCE.read_text())
    changed["description"] = "Now with a better description."
    response = operator.post(
        ADD, {"file": upload("expense.json", json.dumps(changed))}, follow=True
    )
    assert "Version 2 of expense-approval is the latest." in response.content.decode()
    assert list(definition.versions.values_list("number", flat=True)) == [2, 1]


def test_publish__pasted_yaml_is_detected(operator):
    operator.post(ADD, {"source": YAML})
    assert DefinitionVersion.objects.get(definition__key="pasted-flow").format == "yaml"


def test_publish__neither_file_nor_text_is_an_error(operator):
    response = operator.post(ADD, {"source": "  "})
    assert "Upload a file or paste the definition." in response.content.decode()


def test_publish__a_clerk_may_not(people):
    clerk = Client()
    people["clerk"].is_staff = True
    people["clerk"].save()
    clerk.force_login(people["clerk"])
    assert clerk.post(ADD, {"source": YAML}).status_code == 403
    assert not ProcessDefinition.objects.exists()


def test_list__latest_version_and_instance_counts(operator, people, expense):
    start_expense(by=people["clerk"], key="A")
    start_expense(by=people["clerk"], key="B")
    html = operator.get("/admin/processes/processdefinition/").content.decode()
    row = re.search(r"expense-approval</a></th>(.*?)</tr>", html, re.S)[1]
    cells = re.findall(r'<td class="field-(\w+)[^"]*">([^<]*)</td>', row)
    assert dict(cells)["latest_version"] == "1"
    assert dict(cells)["instances_running"] == "2"
    assert dict(cells)["instances_total"] == "2"


def test_version__its_source_read_only(operator, expense):
    version = expense.versions.get()
    response = operator.get(f"/admin/processes/definitionversion/{version.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<pre class="definition-source">{\n  &quot;key&quot;: &quot;expense-approval&quot;' in html
    )
    assert 'name="_save"' not in html
    assert (
        operator.post(f"/admin/processes/definitionversion/{version.pk}/delete/").status_code == 403
    )


def test_definition_page__queries_do_not_grow_with_the_versions(django_user_model):
    root = django_user_model.objects.create_superuser("root-versions")
    client = Client()
    client.force_login(root)
    counts = []
    for versions in (2, 12):
        key = f"many{versions}"
        for n in range(versions):
            publish(key, [service_step(f"s{n}", "test.noop")])
        page = f"/admin/processes/processdefinition/{ProcessDefinition.objects.get(key=key).pk}/"
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{page}change/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
