"""A YAML definition with choice, parallel branches, a user state and fail runs as written."""

import pytest
from django.contrib.auth.models import User

from processes.services import definition_publish, instance_start
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db

SOURCE = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: leave}
spec:
  startAt: route
  variables: {days: integer}
  states:
    - name: route
      type: choice
      choices:
        - {condition: "days > 30", next: refuse}
      default: approvals
    - name: approvals
      type: parallel
      branches:
        - - name: hr
            type: task
            resource: "arn:aws:lambda:::function:test.mark"
            end: true
        - - name: manager
            type: user
            assignee: "${manager}"
            form: {approved: boolean}
            next: record
          - name: record
            type: task
            resource: test.mark
            end: true
      next: archive
    - name: archive
      type: task
      resource: test.mark
      end: true
    - name: refuse
      type: fail
      error: TooLong
      cause: more than 30 days
"""


@pytest.fixture(autouse=True)
def definition():
    definition_publish(source=SOURCE, format="yaml")


def test_yaml__parallel_branches_with_a_user_state_join_before_next():
    boss = User.objects.create_user("boss")
    instance = instance_start(definition_key="leave", variables={"days": 3, "manager": "boss"})
    run_due_jobs()
    assert fresh(instance).status == "running"  # hr done, manager still deciding
    task = Task.objects.get(instance=instance)
    assert task.assignee == boss
    task_claim(task=task, user=boss)
    task_complete(task=task, user=boss, variables={"approved": True})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["ran_archive"] is True
    assert event_types(instance).count("JOIN_COMPLETED") == 1
    assert event_types(instance, "archive") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_yaml__choice_into_fail_state_fails_the_instance_with_its_error():
    instance = instance_start(definition_key="leave", variables={"days": 45})
    instance = fresh(instance)
    assert instance.status == "failed"
    assert (instance.error["error"], instance.error["message"]) == ("TooLong", "more than 30 days")
