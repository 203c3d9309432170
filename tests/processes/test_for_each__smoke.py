"""For-each steps end to end in the test process: the lead's own pins of the main paths
(the suite written apart from the code covers the contract point by point)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from processes.models import Loop, ProcessInstance, Token
from processes.services import definition_publish, instance_start
from processes.statuses import InstanceStatus, TaskState
from tasks.models import Task
from tasks.services import task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_for_each__service_items_run_and_their_results_are_collected_in_order():
    publish(
        "fe",
        [
            service_step(
                "each",
                "test.echo",
                input={"who": "${person}", "at": "${loop.index}"},
                for_each={"items": "${people}", "as": "person", "collect": "out"},
            )
        ],
    )
    instance = instance_start(definition_key="fe", variables={"people": ["a", "b", "c"]})
    assert Loop.objects.get(instance=instance).started == 3
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["out"] == [
        {"who": "a", "at": 0},
        {"who": "b", "at": 1},
        {"who": "c", "at": 2},
    ]
    assert event_types(instance).count("TASK_COMPLETED") == 3
    assert "LOOP_COMPLETED" in event_types(instance)


def test_for_each__two_of_three_approvers_end_the_step_and_the_third_task_goes():
    users = get_user_model().objects
    for name in ("ann", "bob", "cy"):
        users.create_user(name)
    publish(
        "sign",
        [
            {
                "id": "sign",
                "type": "user_task",
                "config": {
                    "assignee": "${approver}",
                    "form": {"ok": {"type": "boolean"}},
                    "for_each": {
                        "items": "${approvers}",
                        "as": "approver",
                        "complete_when": "${loop.completed >= 2}",
                        "collect": "approvals",
                    },
                },
            }
        ],
    )
    instance = instance_start(definition_key="sign", variables={"approvers": ["ann", "bob", "cy"]})
    tasks = {t.assignee.username: t for t in Task.objects.filter(instance=instance)}
    assert set(tasks) == {"ann", "bob", "cy"}
    task_complete(task=tasks["bob"], user=tasks["bob"].assignee, variables={"ok": True})
    assert fresh(instance).status == InstanceStatus.RUNNING
    task_complete(task=tasks["ann"], user=tasks["ann"].assignee, variables={"ok": False})
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["approvals"] == [{"ok": False}, {"ok": True}, None]
    assert Task.objects.get(pk=tasks["cy"].pk).state == TaskState.CANCELLED
    assert not Token.objects.filter(instance=instance, status="active").exists()


def test_for_each__sequential_runs_one_item_at_a_time():
    publish(
        "seq",
        [
            service_step(
                "each",
                "test.echo",
                input={"n": "${item}"},
                for_each={"items": "${xs}", "parallel": False, "collect": "out"},
            )
        ],
    )
    instance = instance_start(definition_key="seq", variables={"xs": [3, 1, 2]})
    assert Loop.objects.get(instance=instance).active == 1
    run_due_jobs()
    assert fresh(instance).variables["out"] == [{"n": 3}, {"n": 1}, {"n": 2}]


def test_map__yaml_iterator_runs_each_item_as_a_scoped_child():
    source = """
kind: WorkflowDefinition
metadata: {name: mapper}
spec:
  startAt: each
  states:
    - name: each
      type: map
      itemsPath: "${orders}"
      itemName: order
      maxConcurrency: 2
      resultPath: "$.checked"
      iterator:
        startAt: check
        states:
          - name: check
            type: task
            resource: test.echo
            input: {id: "${order}", pos: "${loop.index}"}
            next: done
          - name: done
            type: succeed
      end: true
"""
    definition_publish(source=source, format="yaml")
    instance = instance_start(definition_key="mapper", variables={"orders": [7, 8, 9]})
    children = ProcessInstance.objects.filter(parent=instance)
    assert children.count() == 2 and {c.scope for c in children} == {"each"}
    for _ in range(5):
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED, instance.error
    assert instance.variables["checked"] == [
        {"id": 7, "pos": 0},
        {"id": 8, "pos": 1},
        {"id": 9, "pos": 2},
    ]


def test_for_each__subprocess_items_collect_each_childs_output():
    publish("child", [service_step("s", "test.echo", input={"v": "${x * 2}"})])
    publish(
        "parent",
        [
            {
                "id": "call",
                "type": "subprocess",
                "config": {
                    "definition": "child",
                    "input": {"x": "${item}"},
                    "output": {"v": "${v}"},
                    "for_each": {"items": "${xs}", "collect": "vs"},
                },
            }
        ],
    )
    instance = instance_start(definition_key="parent", variables={"xs": [1, 2]})
    for _ in range(5):
        run_due_jobs()
    assert fresh(instance).variables["vs"] == [{"v": 2}, {"v": 4}]
    assert json.dumps(fresh(instance).variables)
