"""PostgreSQL restarts while a step runs: the worker reports on a fresh connection at once
instead of leaving the step to wait for its lease to expire and run again."""

import pytest

from processes.models import Job
from processes.services import instance_start
from processes.statuses import JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lost_connection_is_replaced_before_the_report():
    publish("cut", [service_step("a", "test.cut_db", next=["b"]), service_step("b", "test.mark")])
    instance = instance_start(definition_key="cut")
    run_due_jobs()
    assert fresh(instance).status == "completed"
    assert fresh(instance).variables == {"cut": True, "ran_b": True}
    assert Job.objects.get(step_id="a").status == JobStatus.SUCCEEDED
    assert instance.events.filter(type="TASK_COMPLETED", step_id="a").count() == 1
