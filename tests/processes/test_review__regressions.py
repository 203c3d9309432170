"""Regressions found in review: lock modes, unstorable results, parked chained jobs, bounds."""

import json
import threading
import time

import pytest
from django.db import connection, transaction

from processes.dsl.graph import VariableSpec
from processes.errors import InvalidInput
from processes.models import Event, Job
from processes.services import definition_publish, instance_start
from processes.services.advance import instance_lock
from processes.statuses import JobStatus
from processes.variables import variables_check
from tasks.form_validation import form_clean
from tasks.models import Task
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs


@pytest.mark.django_db(transaction=True)
def test_instance_lock__does_not_deadlock_with_an_event_insert_under_a_task_lock():
    definition = {"name": "t", "steps": [{"id": "u", "type": "user_task", "config": {}}]}
    definition_publish(source=json.dumps(definition), format="json")
    instance = instance_start(definition_key="t")
    task = Task.objects.get(instance=instance)
    both_locked = threading.Barrier(2)
    errors = []

    def operator():  # like terminate: the instance first, then its tasks
        try:
            with transaction.atomic():
                instance_lock(instance.pk)
                both_locked.wait()
                time.sleep(0.3)
                Task.objects.filter(pk=task.pk).update(priority=5)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def claimer():  # like a claim: the task first, then an event of the instance
        try:
            with transaction.atomic():
                Task.objects.select_for_update().get(pk=task.pk)
                both_locked.wait()
                Event.objects.create(instance_id=instance.pk, type="TASK_CLAIMED")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=operator), threading.Thread(target=claimer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Task.objects.get(pk=task.pk).priority == 5


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["datetime", "nan", "nul", "surrogate"])
def test_unstorable_result__fails_the_attempt_instead_of_sticking(kind):
    publish("bad", [service_step("a", "test.bad_result", input={"kind": kind})])
    instance = instance_start(definition_key="bad")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "InvalidResult"
    assert Job.objects.get().status == JobStatus.FAILED


@pytest.mark.django_db
def test_results__may_not_grow_the_variables_past_their_limit():
    steps = [
        service_step("a", "test.bad_result", input={"kind": "big"}, next=["b"]),
        service_step("b", "test.bad_result", input={"kind": "big"}),
    ]
    publish("growing", steps)
    instance = instance_start(definition_key="growing")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert (instance.error["step_id"], instance.error["error"]) == ("b", "InvalidResult")
    assert "FLOWDESK_MAX_VARIABLES_BYTES" in instance.error["message"]
    assert set(instance.variables) == {"big_a"}


@pytest.mark.django_db
def test_chained_job__is_parked_when_the_same_change_fails_the_instance():
    publish(
        "fork-fail",
        [
            service_step("a", "test.mark", next=["b", "gw"]),
            service_step("b", "test.mark"),
            {
                "id": "gw",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "${False}", "next": "b2"}]},
            },
            service_step("b2", "test.mark"),
        ],
    )
    instance = instance_start(definition_key="fork-fail")
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    parked = Job.objects.get(step_id="b")
    assert parked.status == JobStatus.SCHEDULED and parked.lease_token is None
    assert "ran_b" not in instance.variables


def test_integer_check__survives_huge_numbers():
    declared = {"n": VariableSpec(type="integer")}
    assert variables_check(declared=declared, values={"n": 10**400}) == {"n": 10**400}
    with pytest.raises(InvalidInput):
        variables_check(declared=declared, values={"n": 1.5})


def test_formless_step__accepts_only_declared_variables_with_their_types():
    declared = {"approved": VariableSpec(type="boolean")}
    assert form_clean(form={}, values={"approved": True}, declared=declared) == {"approved": True}
    with pytest.raises(InvalidInput) as caught:
        form_clean(form={}, values={"amount": 1, "approved": "yes"}, declared=declared)
    assert set(caught.value.field_errors) == {"amount"}
    with pytest.raises(InvalidInput):
        form_clean(form={}, values={"approved": "yes"}, declared=declared)
