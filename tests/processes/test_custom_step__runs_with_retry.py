"""A custom step type (custom_email, tests/support/services.py) runs on a real worker as a
service step: its config rendered, its failed attempt retried by the step's policy, in the
JSON form and in the YAML form."""

import json

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

JSON_DEFINITION = {
    "name": "welcome-json",
    "steps": [
        {
            "id": "mail",
            "type": "custom_email",
            "config": {
                "to": "${customer.email}",
                "subject": "Welcome, ${customer.name}",
                "fail_times": 1,
                "timeout": "20s",
                "retry_policy": {"max_attempts": 2, "interval": "0s", "errors": ["EmailBounced"]},
            },
            "next": ["done"],
        },
        {"id": "done", "type": "end"},
    ],
}

YAML_DEFINITION = """\
kind: WorkflowDefinition
metadata:
  name: welcome-yaml
spec:
  startAt: mail
  states:
    - name: mail
      type: task
      resource: "flowdesk:step:custom_email"
      timeout: 20s
      retry:
        - errorEquals: [EmailBounced]
          intervalSeconds: 0
          maxAttempts: 2
      config:
        to: "${customer.email}"
        subject: "Welcome, ${customer.name}"
        fail_times: 1
      end: true
"""

CUSTOMER = {"customer": {"email": "ann@example.com", "name": "Ann"}}


def test_custom_step__runs_with_a_retry_in_json_and_yaml(worker):
    definition_publish(source=json.dumps(JSON_DEFINITION), format="json")
    definition_publish(source=YAML_DEFINITION, format="yaml")
    instances = [
        instance_start(definition_key=key, variables=CUSTOMER)
        for key in ("welcome-json", "welcome-yaml")
    ]
    for instance in instances:
        wait_for(lambda i=instance: fresh(i).status == "completed", timeout=60, what="the mail")
        instance = fresh(instance)
        assert instance.variables["mail_sent"] == {
            "to": "ann@example.com",
            "subject": "Welcome, Ann",
        }
        assert instance.variables["mail_attempt"] == 2
        retried = instance.events.filter(type="TASK_RETRIED").get()
        assert (retried.step_id, retried.payload["error"]) == ("mail", "EmailBounced")
        scheduled = instance.events.filter(type="TASK_SCHEDULED").get()
        assert scheduled.payload["service"] == "flowdesk:step:custom_email"
