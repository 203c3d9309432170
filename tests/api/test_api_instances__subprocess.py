"""A subprocess written in YAML runs like its JSON twin; the API shows an instance's
`parent_id` and `children`, the instance pages link parent and children, the admin filters
instances by parent, and the BPMN export draws the step as a callActivity."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from processes.bpmn.export import BPMN, graph_bpmn
from processes.models import ProcessInstance, graph_of_version
from processes.services import definition_publish, instance_start
from tests.bpmn.bpmn_xml import Document
from tests.support.engine import fresh, run_due_jobs

INSTANCES = "/api/v1/process-instances"

CHILD = """
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata:
  name: credit-check
spec:
  variables:
    customer: integer
  startAt: score
  states:
    - name: score
      type: task
      resource: test.echo
      input:
        score: "${customer * 10}"
      end: true
"""

PARENT = """
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata:
  name: loan
spec:
  startAt: check
  states:
    - name: check
      type: subprocess
      definition: credit-check
      version: latest
      input:
        customer: "${customer_id}"
      output:
        credit_score: "${score}"
      catch:
        - errorEquals: [SubprocessFailed]
          next: refused
      next: done
    - name: done
      type: succeed
    - name: refused
      type: fail
      error: Refused
"""


@pytest.fixture
def family(db):
    definition_publish(source=CHILD, format="yaml")
    version = definition_publish(source=PARENT, format="yaml")
    parent = instance_start(definition_key="loan", variables={"customer_id": 4})
    return version, parent, ProcessInstance.objects.get(parent=parent)


@pytest.mark.django_db(transaction=True)
def test_yaml__subprocess_runs_and_merges_its_output(family):
    _, parent, child = family
    assert child.variables == {"customer": 4}
    run_due_jobs()
    assert fresh(parent).status == "completed"
    assert fresh(parent).variables["credit_score"] == 40


def test_api__detail_shows_parent_and_children(family, api):
    _, parent, child = family
    body = api("maria").get(f"{INSTANCES}/{parent.pk}").json()
    assert body["parent_id"] is None
    assert body["children"] == [
        {
            "id": child.pk,
            "process_definition_key": "credit-check",
            "version": 1,
            "step": "check",
            "status": "running",
        }
    ]
    assert api("maria").get(f"{INSTANCES}/{child.pk}").json()["parent_id"] == parent.pk


def test_pages__parent_and_child_link_to_each_other(family, client):
    _, parent, child = family
    client.force_login(User.objects.create_superuser("root2", "root2@example.com", "x"))
    parent_page = client.get(f"/instances/{parent.pk}/").content.decode()
    assert f'href="/instances/{child.pk}/"' in parent_page
    child_page = client.get(f"/instances/{child.pk}/").content.decode()
    assert f'href="/instances/{parent.pk}/"' in child_page


def test_admin__filters_instances_by_parent(family, client):
    _, parent, child = family
    client.force_login(User.objects.create_superuser("root2", "root2@example.com", "x"))
    url = "/admin/processes/processinstance/"
    listed = client.get(url, {"parent": parent.pk}).context["cl"].result_list
    assert [i.pk for i in listed] == [child.pk]
    listed = client.get(url, {"parent": "none"}).context["cl"].result_list
    assert [i.pk for i in listed] == [parent.pk]


def test_bpmn__the_step_is_a_call_activity(family):
    version, _, _ = family
    document = Document.parse(graph_bpmn(graph_of_version(version.pk)))
    tags = {e.get("id"): e.tag.removeprefix(f"{{{BPMN}}}") for e in document.flow_nodes().values()}
    assert tags["Step_check"] == "callActivity"


def test_api__whoever_started_the_parent_may_open_the_child(db, api, people):
    from guardian.shortcuts import assign_perm

    definition_publish(source=CHILD, format="yaml")
    version = definition_publish(source=PARENT, format="yaml")
    assign_perm("processes.start_processdefinition", people["ann"], version.definition)
    parent = instance_start(definition_key="loan", variables={"customer_id": 4}, user=people["ann"])
    child = ProcessInstance.objects.get(parent=parent)
    listed = api("ann").get(f"{INSTANCES}/{parent.pk}").json()["children"]
    assert [c["id"] for c in listed] == [child.pk]
    assert api("ann").get(f"{INSTANCES}/{child.pk}").status_code == 200
    assert api("eve").get(f"{INSTANCES}/{child.pk}").status_code == 404
