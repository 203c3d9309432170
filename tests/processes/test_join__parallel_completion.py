"""Parallel joins continue exactly once, even when branches finish at the same instant."""

import threading

import pytest
from django.db import connection

from processes.models import Job, ProcessInstance, Token
from processes.services import instance_start
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.statuses import TokenStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.workers import wait_for


def publish_split(key: str, branches: int):
    names = [f"b{i}" for i in range(branches)]
    return publish(
        key,
        [
            {"id": "split", "type": "parallel_gateway", "next": names},
            *(service_step(name, "test.mark", next=["join"]) for name in names),
            {"id": "join", "type": "parallel_gateway", "next": ["after"]},
            service_step("after", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


@pytest.mark.django_db
def test_join__waits_for_all_branches_in_process():
    publish_split("split3", 3)
    instance = instance_start(definition_key="split3")
    assert sorted(Job.objects.values_list("step_id", flat=True)) == ["b0", "b1", "b2"]
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert event_types(instance).count("JOIN_COMPLETED") == 1
    assert Job.objects.filter(step_id="after").count() == 1
    assert not Token.objects.filter(status=TokenStatus.WAITING).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_join__branches_completing_at_the_same_instant_continue_once(attempt):
    publish_split("race", 2)
    instance = instance_start(definition_key="race")
    leases = [job_lease(job_id=job.pk) for job in Job.objects.order_by("id")]
    barrier = threading.Barrier(len(leases))
    errors = []

    def complete(lease):
        try:
            barrier.wait()
            job_report_success(lease=lease, result={f"ran_{lease.context.step_id}": True})
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Job.objects.filter(step_id="after").count() == 1
    assert event_types(instance).count("JOIN_COMPLETED") == 1
    assert fresh(instance).variables == {"ran_b0": True, "ran_b1": True}


@pytest.mark.worker
def test_join__fifty_instances_ten_branches_four_workers(workers):
    publish_split("wide", 10)
    for n in range(4):
        workers.start(f"w{n}", beat=(n == 0))
    instances = [instance_start(definition_key="wide") for _ in range(50)]
    wait_for(
        lambda: ProcessInstance.objects.filter(status="completed").count() == 50,
        timeout=180,
        interval=0.5,
        what="all 50 instances",
    )
    for instance in instances:
        assert event_types(instance).count("JOIN_COMPLETED") == 1
        assert instance.jobs.filter(step_id="after").count() == 1
        assert instance.events.filter(type="TASK_COMPLETED", step_id="after").count() == 1
        assert len(fresh(instance).variables) == 11
    assert not Token.objects.filter(status=TokenStatus.WAITING).exists()


@pytest.mark.django_db
def test_join__a_branch_that_bypasses_it_leaves_a_deadlock_failure():
    publish(
        "bypass",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["a", "check"]},
            service_step("a", "test.mark", next=["join"]),
            {
                "id": "check",
                "type": "exclusive_gateway",
                "config": {
                    "conditions": [{"expression": "${skip}", "next": "end"}],
                    "default": "join",
                },
            },
            {"id": "join", "type": "parallel_gateway", "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="bypass", variables={"skip": True})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "Deadlock"
    assert instance.error["step_id"] == "join"
    assert event_types(instance)[-1] == "WORKFLOW_FAILED"
