"""Signals reach every waiting signal_catch step and signal boundary event of running
instances, and say how many they reached; nothing is kept for later. Real PostgreSQL."""

import pytest

from processes.models import Subscription
from processes.services import instance_start, instance_suspend, signal_broadcast
from processes.statuses import InstanceStatus, SubscriptionStatus, TaskState
from tasks.models import Task
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs


def publish_waiting(key="closing"):
    publish(
        key,
        [
            {
                "id": "wait",
                "type": "signal_catch",
                "config": {"signal": "quarter-closed"},
                "next": ["report"],
            },
            service_step("report", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


@pytest.mark.django_db
def test_signal__reaches_every_waiting_instance_and_merges_its_variables():
    publish_waiting()
    instances = [instance_start(definition_key="closing") for _ in range(3)]
    assert signal_broadcast(name="quarter-closed", variables={"quarter": "Q3"}) == 3
    run_due_jobs()
    for instance in instances:
        instance = fresh(instance)
        assert instance.status == InstanceStatus.COMPLETED
        assert instance.variables["quarter"] == "Q3"
        assert "SIGNAL_RECEIVED" in event_types(instance, "wait")


@pytest.mark.django_db
def test_signal__of_another_name_reaches_nothing_and_is_not_kept():
    publish_waiting()
    assert signal_broadcast(name="year-closed") == 0
    instance = instance_start(definition_key="closing")
    assert fresh(instance).status == InstanceStatus.RUNNING
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.WAITING


@pytest.mark.django_db
def test_signal__skips_a_suspended_instance():
    publish_waiting()
    instance = instance_start(definition_key="closing")
    instance_suspend(instance=instance)
    assert signal_broadcast(name="quarter-closed") == 0
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.WAITING


@pytest.mark.django_db
def test_signal__interrupting_boundary_cancels_the_task(django_user_model):
    django_user_model.objects.create_user("bob", "b@example.com", "pw")
    publish(
        "review",
        [
            {
                "id": "review",
                "type": "user_task",
                "config": {
                    "assignee": "bob",
                    "boundary": [{"type": "signal", "signal": "recall", "next": "recalled"}],
                },
                "next": ["end"],
            },
            service_step("recalled", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="review")
    assert signal_broadcast(name="recall") == 1
    run_due_jobs()
    assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
    assert fresh(instance).status == InstanceStatus.COMPLETED
