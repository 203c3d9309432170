"""Retries on a real worker: attempts, TASK_RETRIED events, backoff growing by backoffRate."""

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker

FLAKY = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: flaky-retry}
spec:
  startAt: call
  states:
    - name: call
      type: task
      resource: "arn:aws:lambda:eu-west-1:1:function:test.flaky"
      input: {succeed_on: "${succeed_on}"}
      retry:
        - errorEquals: [FlakyError]
          intervalSeconds: 1
          maxAttempts: 3
          backoffRate: 2.0
      end: true
"""


def test_retry__fails_twice_then_succeeds_with_growing_backoff(worker):
    definition_publish(source=FLAKY, format="yaml")
    instance = instance_start(definition_key="flaky-retry", variables={"succeed_on": 3})
    wait_for(lambda: fresh(instance).status == "completed", timeout=40, what="the retries")
    events = list(fresh(instance).events.order_by("id"))
    retried = [e for e in events if e.type == "TASK_RETRIED"]
    assert [e.payload["delay_seconds"] for e in retried] == [1.0, 2.0]
    assert [e.payload["attempt"] for e in retried] == [2, 3]
    assert all(e.payload["error"] == "FlakyError" for e in retried)
    [completed] = [e for e in events if e.type == "TASK_COMPLETED"]
    assert completed.payload["result"] == {"flaky_attempts": 3}
    # The waits really happened: each next attempt came no sooner than its backoff.
    gaps = [
        (retried[1].created_at - retried[0].created_at).total_seconds(),
        (completed.created_at - retried[1].created_at).total_seconds(),
    ]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0


def test_retry__exhausted_attempts_fail_the_instance(worker):
    definition_publish(source=FLAKY, format="yaml")
    instance = instance_start(definition_key="flaky-retry", variables={"succeed_on": 9})
    wait_for(lambda: fresh(instance).status == "failed", timeout=40, what="the failure")
    instance = fresh(instance)
    assert instance.error["error"] == "FlakyError"
    assert instance.events.filter(type="TASK_RETRIED").count() == 2
    assert instance.jobs.get().attempt == 3
