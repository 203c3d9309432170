"""What the purge tests share: an instance that left a row in every table an instance can
own, and a count of each table's rows by instance."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q
from prometheus_client import REGISTRY

from processes.models import (
    Event,
    Job,
    Loop,
    Message,
    ProcessInstance,
    Subscription,
    Timer,
    Token,
)
from processes.services import instance_start, message_correlate
from processes.statuses import InstanceStatus
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

# Every table with rows that belong to an instance, and how its rows name the instance.
OWNED = {
    "instance": (ProcessInstance, "pk"),
    "token": (Token, "instance_id"),
    "loop": (Loop, "instance_id"),
    "job": (Job, "instance_id"),
    "timer": (Timer, "instance_id"),
    "subscription": (Subscription, "instance_id"),
    "event": (Event, "instance_id"),
    "message": (Message, "instance_id"),
    "task": (Task, "instance_id"),
    "task_candidate_users": (Task.candidate_users.through, "task__instance_id"),
    "task_candidate_groups": (Task.candidate_groups.through, "task__instance_id"),
}


def purged_count(by: str) -> float:
    """workflow_instances_purged_total{by} in this process so far."""
    return REGISTRY.get_sample_value("workflow_instances_purged_total", {"by": by}) or 0.0


def rows_of(instance_ids: list[str]) -> dict[str, int]:
    """For each owned table, how many of its rows belong to `instance_ids`."""
    return {
        table: model.objects.filter(**{f"{column}__in": instance_ids}).count()
        for table, (model, column) in OWNED.items()
    }


def all_rows() -> dict[str, int]:
    return {table: model.objects.count() for table, (model, _) in OWNED.items()}


def publish_rich(key: str = "rich", **extra) -> None:
    """A definition whose finished instance leaves a row in every owned table: an undo
    (a compensation job pointing at an event), a for-each (loop), a message received (a
    subscription, and the buffered message it took), an approval by candidates with a
    reminder timer (task, its candidate lists, a timer) and a subprocess (a child, with
    rows of its own)."""
    publish("rich-child", [{"id": "sign", "type": "user_task", "config": {"assignee": "boss"}}])
    publish(
        key,
        [
            service_step(
                "reserve",
                "test.mark",
                compensation={"service_name": "test", "method": "echo"},
                next=["each"],
            ),
            service_step(
                "each", "test.echo", for_each={"items": "${xs}", "as": "x"}, next=["paid"]
            ),
            {
                "id": "paid",
                "type": "message_catch",
                "config": {"message": f"{key}-paid", "correlation_key": "${order}"},
                "next": ["approve"],
            },
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "candidate_users": ["boss"],
                    "candidate_groups": ["approvers"],
                    "boundary": [
                        {"type": "timer", "duration": "1d", "interrupting": False, "next": "nag"}
                    ],
                },
                "next": ["child"],
            },
            service_step("nag", "test.noop"),
            {
                "id": "child",
                "type": "subprocess",
                "config": {"definition": "rich-child"},
                "next": ["undo"],
            },
            {"id": "undo", "type": "compensate", "next": ["done"]},
            {"id": "done", "type": "end"},
        ],
        **extra,
    )


def boss():
    user, _ = get_user_model().objects.get_or_create(username="boss")
    Group.objects.get_or_create(name="approvers")
    return user


def run_rich(key: str = "rich", order: str = "A-1") -> ProcessInstance:
    """Start an instance of `key` and take it to its end; returns it, completed."""
    person = boss()
    message_correlate(name=f"{key}-paid", correlation_key=order, ttl_seconds=3600)
    instance = instance_start(definition_key=key, variables={"xs": [1, 2], "order": order})
    run_due_jobs()
    approval = Task.objects.get(instance=instance, step_id="approve")
    task_claim(task=approval, user=person)
    task_complete(task=approval, user=person, variables={})
    child = ProcessInstance.objects.get(parent=instance)
    task_complete(task=Task.objects.get(instance=child), user=person, variables={})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED, instance.error
    return instance


def tree_of(instance: ProcessInstance) -> list[str]:
    """The instance's id and its descendants'."""
    ids, level = [instance.pk], [instance.pk]
    while level:
        level = list(
            ProcessInstance.objects.filter(parent_id__in=level).values_list("pk", flat=True)
        )
        ids += level
    return ids


def age(instance: ProcessInstance, ended_at: datetime) -> None:
    """Make a finished instance (and its children) look as if it ended at `ended_at` (a
    failed one: as if it failed then)."""
    family = ProcessInstance.objects.filter(Q(pk=instance.pk) | Q(parent_id=instance.pk))
    family.filter(ended_at__isnull=False).update(ended_at=ended_at)
    family.update(updated_at=ended_at)
