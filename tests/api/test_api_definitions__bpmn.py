"""`GET /api/v1/process-definitions/{id}/versions/{n}/bpmn`: a version as BPMN 2.0 XML."""

import json
import xml.etree.ElementTree as ET

import pytest

from processes.bpmn.export import BPMN, BPMNDI
from processes.services import definition_publish
from tests.api.support import APPROVAL

pytestmark = pytest.mark.django_db


def bpmn_url(definition_id, number) -> str:
    return f"/api/v1/process-definitions/{definition_id}/versions/{number}/bpmn"


def test_bpmn__a_version_as_an_xml_attachment(api, approval):
    changed = {**APPROVAL, "description": "second take"}
    definition_publish(source=json.dumps(changed), format="json")

    answer = api("ann").get(bpmn_url(approval.pk, 1), HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/xml"
    assert answer["Content-Disposition"] == 'attachment; filename="approval-v1.bpmn"'
    root = ET.fromstring(answer.content)  # noqa: S314  (our own answer)
    process = root.find(f"{{{BPMN}}}process")
    assert process.find(f"{{{BPMN}}}documentation").text == APPROVAL["description"]
    assert process.find(f"{{{BPMN}}}userTask").get("name") == "Approve the amount"
    assert root.find(f".//{{{BPMNDI}}}BPMNShape") is not None

    second = api("ann").get(bpmn_url(approval.pk, 2))
    assert second["Content-Disposition"] == 'attachment; filename="approval-v2.bpmn"'
    assert b"second take" in second.content


@pytest.mark.parametrize("number", ["3", "0", "-1", "abc", "99999999999999999999"])
def test_bpmn__a_version_that_does_not_exist_is_a_json_404(api, approval, number):
    answer = api("ann").get(bpmn_url(approval.pk, number), HTTP_ACCEPT="application/xml")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert "detail" in answer.json()


def test_bpmn__a_definition_you_may_not_start_or_that_does_not_exist_is_404(api, approval):
    assert api("eve").get(bpmn_url(approval.pk, 1)).status_code == 404
    assert api("ann").get(bpmn_url(approval.pk + 1000, 1)).status_code == 404
    assert api("ann").get(bpmn_url("nope", 1)).status_code == 404
    assert api("maria").get(bpmn_url(approval.pk, 1)).status_code == 200  # managers see all


def test_bpmn__anonymous_callers_are_401(client, approval):
    assert client.get(bpmn_url(approval.pk, 1)).status_code == 401
