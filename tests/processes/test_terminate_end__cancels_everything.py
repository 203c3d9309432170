"""A terminate end completes the whole instance at once: the other branches' open task leaves
the inbox, their running job is cancelled (its late success changes nothing), their timer
and message subscription are cancelled, by the engine, and no step after it runs. Written in
JSON and in YAML; the BPMN picture shows a terminate end event."""

import pytest
from django.contrib.auth.models import User

from processes.bpmn.export import BPMN, graph_bpmn
from processes.dsl import DefinitionError, compile_definition
from processes.models import Event, Job, Subscription, Timer, Token
from processes.services import definition_publish, instance_start
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.statuses import (
    InstanceStatus,
    JobStatus,
    SubscriptionStatus,
    TaskState,
    TimerStatus,
    TokenStatus,
)
from tasks.models import Task
from tasks.selectors import inbox_tasks
from tasks.services import task_complete
from tests.bpmn.bpmn_xml import Document
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh

pytestmark = pytest.mark.django_db

BRANCHES = ["review", "work", "wait", "ping", "decide"]


def publish_json(key: str) -> None:
    publish(
        key,
        [
            {"id": "split", "type": "parallel_gateway", "next": BRANCHES},
            {"id": "review", "type": "user_task", "config": {"assignee": "bob"}, "next": ["join"]},
            service_step("work", "test.mark", next=["join"]),
            {"id": "wait", "type": "timer", "config": {"duration": "1h"}, "next": ["join"]},
            {
                "id": "ping",
                "type": "message_catch",
                "config": {"message": "ping", "correlation_key": "${order}"},
                "next": ["join"],
            },
            {"id": "decide", "type": "user_task", "config": {"assignee": "ann"}, "next": ["stop"]},
            {"id": "stop", "type": "end", "config": {"terminate": True}},
            {"id": "join", "type": "parallel_gateway", "next": ["after"]},
            service_step("after", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


YAML = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: KEY}
spec:
  startAt: split
  states:
    - name: split
      type: parallel
      branches:
        - - {name: review, type: user, assignee: bob, end: true}
        - - {name: work, type: task, resource: test.mark, end: true}
        - - {name: wait, type: wait, seconds: 3600, end: true}
        - - {name: ping, type: event, event: ping, correlationKey: "${order}", end: true}
        - - {name: decide, type: user, assignee: ann, next: stop}
          - {name: stop, type: succeed, terminate: true}
      next: after
    - {name: after, type: task, resource: test.mark, next: end}
    - {name: end, type: succeed}
"""


def publish_yaml(key: str) -> None:
    definition_publish(source=YAML.replace("KEY", key), format="yaml")


@pytest.fixture
def people():
    return User.objects.create_user("bob"), User.objects.create_user("ann")


@pytest.mark.parametrize("publish_in", [publish_json, publish_yaml], ids=["json", "yaml"])
def test_terminate_end__in_one_branch_ends_every_other_branch(publish_in, people):
    bob, ann = people
    publish_in("stop-all")
    instance = instance_start(definition_key="stop-all", variables={"order": "A-1"})
    lease = job_lease(job_id=Job.objects.get(step_id="work").pk)  # a worker runs it now
    assert inbox_tasks(user=bob, queue="mine").count() == 1

    task_complete(task=Task.objects.get(step_id="decide"), user=ann, variables={})

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    completed = Event.objects.get(instance=instance, type="WORKFLOW_COMPLETED")
    assert (completed.step_id, completed.payload, completed.actor) == (
        "stop",
        {"terminated_at": "stop"},
        None,
    )
    assert Task.objects.get(step_id="review").state == TaskState.CANCELLED
    assert inbox_tasks(user=bob, queue="mine").count() == 0
    assert Job.objects.get(step_id="work").status == JobStatus.CANCELLED
    assert Timer.objects.get(instance=instance).status == TimerStatus.CANCELLED
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED
    assert not Token.objects.filter(
        instance=instance, status__in=(TokenStatus.ACTIVE, TokenStatus.WAITING)
    ).exists()
    assert instance.active_tokens == 0
    cancelled = Event.objects.filter(
        instance=instance,
        type__in=("TASK_CANCELLED", "TIMER_CANCELLED", "SUBSCRIPTION_CANCELLED"),
    )
    assert sorted(cancelled.values_list("step_id", flat=True)) == ["ping", "review", "wait", "work"]
    assert not cancelled.exclude(actor=None).exists()  # the engine's doing, not ann's

    report = job_report_success(lease=lease, result={"late": True})

    assert not report.accepted
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert "late" not in instance.variables
    assert not Job.objects.filter(step_id="after").exists()
    assert event_types(instance).count("WORKFLOW_COMPLETED") == 1


def test_terminate_end__reached_in_the_same_walk_as_other_steps_leaves_none_of_them():
    publish(
        "stop-at-once",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["stop", "later"]},
            {"id": "stop", "type": "end", "config": {"terminate": True}},
            service_step("later", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = fresh(instance_start(definition_key="stop-at-once"))
    assert instance.status == InstanceStatus.COMPLETED
    assert not Job.objects.filter(instance=instance).exists()
    assert not Token.objects.filter(instance=instance, status=TokenStatus.ACTIVE).exists()


def test_terminate_end__bpmn_export_is_an_end_event_with_terminate_definition():
    publish_json("stop-bpmn")
    graph = fresh(instance_start(definition_key="stop-bpmn", variables={"order": "x"})).graph
    ends = {
        element.get("name"): element
        for element in Document.parse(graph_bpmn(graph)).flow_nodes().values()
        if element.tag == f"{{{BPMN}}}endEvent"
    }
    assert ends["stop"].find(f"{{{BPMN}}}terminateEventDefinition") is not None
    assert ends["end"].find(f"{{{BPMN}}}terminateEventDefinition") is None


def test_terminate_end__terminate_must_be_true_or_false():
    source = YAML.replace("KEY", "bad").replace("terminate: true", "terminate: yes please")
    with pytest.raises(DefinitionError) as caught:
        compile_definition(source, "yaml")
    assert "'terminate' must be true or false" in str(caught.value.problems[0])
