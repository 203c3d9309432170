"""LOG_FORMAT=json: one JSON line per event, carrying the instance, step and job ids."""

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from processes.services import instance_start
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs


@pytest.mark.django_db(transaction=True)
def test_logs__one_json_line_per_event_with_ids(caplog):
    publish("logged", [service_step("a", "test.mark")])
    with caplog.at_level(logging.INFO, logger="flowdesk.events"):
        instance = instance_start(definition_key="logged")
        run_due_jobs()
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "flowdesk.events"]
    assert [line["event"] for line in lines] == [
        "WORKFLOW_STARTED",
        "TASK_SCHEDULED",
        "TASK_COMPLETED",
        "WORKFLOW_COMPLETED",
    ]
    assert {line["instance_id"] for line in lines} == {instance.pk}
    scheduled = lines[1]
    assert (scheduled["step_id"], scheduled["job_id"]) == ("a", instance.jobs.get().pk)


@pytest.mark.django_db
def test_logs__a_failing_step_logs_its_traceback_once(caplog):
    publish("failing", [service_step("a", "test.raise", input={"error": "Boom"})])
    with caplog.at_level(logging.INFO):
        instance_start(definition_key="failing")
        run_due_jobs()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert tracebacks[0].step_id == "a" and tracebacks[0].exc_info[0].__name__ == "Boom"
