"""Review of the for-each steps: an item's outcome that arrives after its loop ended (or after
another item took the catch) changes nothing; a retried item sees repaired variables; a map
name that would break its items' scope is refused at publish; a version document's odd
version name is a clear error."""

from __future__ import annotations

import pytest

from processes.dsl import DefinitionError
from processes.models import Job, Timer
from processes.services import (
    definition_publish,
    instance_resume,
    instance_retry,
    instance_start,
    instance_suspend,
)
from processes.services.job_runs import _run_leased
from processes.services.leases import job_lease
from processes.services.repair import instance_variables_update
from processes.statuses import InstanceStatus, TimerStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)
DONE = {"id": "done", "type": "end"}


def each_child(definition: str, **config) -> dict:
    return {
        "id": "each",
        "type": "subprocess",
        "config": {"definition": definition, **config},
        "next": ["done"],
    }


@pytest.mark.parametrize("child", ["denier", "nope-not-there"])
def test_items_failing_in_one_change_take_the_catch_once(child):
    publish("denier", [{"id": "no", "type": "end", "config": {"error": "Denied"}}])
    publish(
        "fe-deny",
        [
            each_child(
                child,
                for_each={"items": "${numbers}"},
                catch=[{"error_equals": ["Denied", "SubprocessNotFound"], "next": "refused"}],
            ),
            service_step("refused", "test.mark", next=["done"]),
            DONE,
        ],
    )
    parent = instance_start(definition_key="fe-deny", variables={"numbers": [1, 2, 3]})
    assert Job.objects.filter(instance=parent, step_id="refused").count() == 1
    assert event_types(parent, "each").count("TASK_FAILED") == 1


@pytest.mark.parametrize("catch", [False, True])
def test_a_failure_applied_on_resume_after_the_loop_ended_changes_nothing(catch):
    step = service_step(
        "each",
        "test.flaky",
        input={"succeed_on": "${1 if item == 'ok' else 99}"},
        next=["done"],
        for_each={"items": "${items}", "complete_when": "${loop.completed >= 1}"},
        **({"catch": [{"error_equals": ["FlakyError"], "next": "refused"}]} if catch else {}),
    )
    refused = [service_step("refused", "test.mark", next=["done"])] if catch else []
    publish("fe-late", [step, *refused, DONE])
    instance = instance_start(definition_key="fe-late", variables={"items": ["ok", "bad"]})
    leases = [job_lease(job_id=job.pk) for job in Job.objects.filter(instance=instance)]
    instance_suspend(instance=instance)
    for lease in leases:  # "ok" succeeds first, then "bad" fails for good
        _run_leased(lease, keep_next=False)
    instance_resume(instance=fresh(instance))
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.COMPLETED
    assert not Job.objects.filter(instance=instance, step_id="refused").exists()


def test_no_retry_timer_is_left_on_an_item_its_loop_cancelled():
    publish(
        "okornot",
        [
            {
                "id": "gw",
                "type": "exclusive_gateway",
                "config": {"conditions": [{"expression": "ok", "next": "fine"}], "default": "no"},
            },
            {"id": "fine", "type": "end"},
            {"id": "no", "type": "end", "config": {"error": "Denied"}},
        ],
        variables={"ok": "boolean"},
    )
    publish(
        "fe-retry",
        [
            each_child(
                "okornot",
                input={"ok": "${item}"},
                retry_policy={"max_attempts": 3, "interval": "1h"},
                for_each={"items": "${items}", "complete_when": "${loop.completed >= 1}"},
            ),
            DONE,
        ],
    )
    parent = instance_start(definition_key="fe-retry", variables={"items": [True, False]})
    assert fresh(parent).status == InstanceStatus.COMPLETED
    assert not Timer.objects.filter(instance=parent, status=TimerStatus.SCHEDULED).exists()


def test_a_retried_item_sees_the_repaired_variables():
    publish(
        "fe-repair",
        [
            service_step(
                "each",
                "test.echo",
                input={"code": "${codes[item]}"},
                for_each={"items": "${items}", "collect": "out"},
                next=["done"],
            ),
            DONE,
        ],
    )
    instance = instance_start(
        definition_key="fe-repair", variables={"items": ["a", "b"], "codes": {"a": 1}}
    )
    assert fresh(instance).status == InstanceStatus.FAILED
    instance_variables_update(instance=fresh(instance), changes={"codes": {"a": 1, "b": 2}})
    instance_retry(instance=fresh(instance))
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["out"] == [{"code": 1}, {"code": 2}]


def test_a_map_named_with_a_slash_is_refused_at_publish():
    source = """
kind: WorkflowDefinition
metadata: {name: slashmap}
spec:
  states:
    - name: "a/b"
      type: map
      itemsPath: "${orders}"
      iterator:
        states:
          - {name: price, type: task, resource: test.echo, end: true}
      end: true
"""
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=source, format="yaml")
    assert [(p.path, "cannot hold '/'" in p.message) for p in caught.value.problems] == [
        ("/spec/states/0/name", True)
    ]


@pytest.mark.parametrize("version", ["\u00b2", "99999999999999999999999", "\u0663"])
def test_a_version_document_naming_an_odd_version_is_a_clear_error(version):
    publish("rk", [service_step("a", "test.noop")])
    publish("rk", [service_step("b", "test.noop")])
    document = f"""
kind: WorkflowVersion
spec:
  workflowID: "rk"
  version: "{version}"
  migration: {{strategy: gradual, rolloutPercentage: 10}}
"""
    with pytest.raises(DefinitionError, match="no published version"):
        definition_publish(source=document, format="yaml")


def test_a_loop_that_failed_itself_goes_on_after_a_retry_without_rerunning_its_items():
    publish(
        "fe-when",
        [
            service_step(
                "each",
                "test.echo",
                input={"n": "${item}"},
                for_each={
                    "items": "${items}",
                    "parallel": False,
                    "complete_when": "${loop.completed >= limit}",
                    "collect": "out",
                },
                next=["done"],
            ),
            DONE,
        ],
    )
    instance = instance_start(definition_key="fe-when", variables={"items": [1, 2, 3]})
    run_due_jobs()
    failed = fresh(instance)
    assert failed.status == InstanceStatus.FAILED and failed.error["error"] == "ExpressionError"
    assert Job.objects.filter(instance=instance).count() == 1  # item 0 ran; nothing else
    instance_variables_update(instance=failed, changes={"limit": 2})
    instance_retry(instance=fresh(instance))
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["out"] == [{"n": 1}, {"n": 2}, None]
    assert Job.objects.filter(instance=instance).count() == 2  # item 0 did not run again
