"""Message boundary events (interrupting: the task leaves the inbox; non-interrupting: a path
starts beside the step each time one comes) and an event raised on one instance (the seed's
RaiseEvent). Real PostgreSQL."""

import pytest

from processes.errors import Conflict, NotAllowed, NotFound
from processes.models import Subscription
from processes.services import (
    instance_raise_event,
    instance_start,
    instance_suspend,
    message_correlate,
)
from processes.statuses import InstanceStatus, SubscriptionStatus, TaskState
from tasks.models import Task
from tasks.services import task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "b@example.com", "pw")


def publish_approval(key="order", **event):
    publish(
        key,
        [
            {
                "id": "approve",
                "type": "user_task",
                "config": {
                    "assignee": "bob",
                    "boundary": [
                        {
                            "type": "message",
                            "message": "cancel-order",
                            "correlation_key": "${order_id}",
                            "next": "cancelled",
                            **event,
                        }
                    ],
                },
                "next": ["end"],
            },
            service_step("cancelled", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    return instance_start(definition_key=key, variables={"order_id": "A-1"})


@pytest.mark.django_db
def test_message_boundary__interrupting_takes_the_task_out_of_the_inbox(bob):
    instance = publish_approval()
    message_correlate(name="cancel-order", correlation_key="A-1", variables={"why": "dup"})
    run_due_jobs()
    task = Task.objects.get(instance=instance)
    assert task.state == TaskState.CANCELLED
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["why"] == "dup"
    with pytest.raises(Conflict):
        task_complete(task=task, user=bob, variables={})


@pytest.mark.django_db
def test_message_boundary__non_interrupting_starts_a_path_each_time_and_the_task_stays(bob):
    instance = publish_approval(interrupting=False)
    for _ in range(2):
        message_correlate(name="cancel-order", correlation_key="A-1")
    run_due_jobs()
    task = Task.objects.get(instance=instance)
    assert task.state in (TaskState.OPEN, TaskState.ASSIGNED)
    assert event_types(instance, "cancelled").count("TASK_COMPLETED") == 2
    subscription = Subscription.objects.get(instance=instance)
    assert subscription.status == SubscriptionStatus.WAITING
    task_complete(task=task, user=bob, variables={})
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.COMPLETED
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED


@pytest.mark.django_db
def test_message_boundary__completing_the_task_first_cancels_the_subscription(bob):
    instance = publish_approval()
    task_complete(task=Task.objects.get(instance=instance), user=bob, variables={})
    assert Subscription.objects.get(instance=instance).status == SubscriptionStatus.CANCELLED
    with pytest.raises(NotFound):
        message_correlate(name="cancel-order", correlation_key="A-1")


@pytest.mark.django_db
def test_raise_event__reaches_the_instance_subscription_by_name(bob):
    instance = publish_approval()
    instance_raise_event(instance=instance, name="cancel-order", payload={"why": "asked"})
    assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
    assert fresh(instance).variables["why"] == "asked"


@pytest.mark.django_db
def test_raise_event__an_event_the_instance_does_not_wait_for_says_what_it_waits_for(bob):
    instance = publish_approval()
    with pytest.raises(NotFound, match=r"does not wait for event 'approve'.*cancel-order"):
        instance_raise_event(instance=instance, name="approve")


@pytest.mark.django_db
def test_raise_event__on_a_suspended_instance_is_a_conflict(bob):
    instance = publish_approval()
    instance_suspend(instance=instance)
    with pytest.raises(Conflict, match="suspended"):
        instance_raise_event(instance=instance, name="cancel-order")


@pytest.mark.django_db
def test_raise_event__a_user_who_cannot_see_the_instance_gets_not_found(bob, django_user_model):
    instance = publish_approval()
    stranger = django_user_model.objects.create_user("eve", "e@example.com", "pw")
    with pytest.raises(NotFound):
        instance_raise_event(instance=instance, name="cancel-order", user=stranger)
    with pytest.raises(NotAllowed):
        instance_raise_event(instance=instance, name="cancel-order", user=bob)


YAML = """
apiVersion: api.example.com/v1
kind: WorkflowDefinition
metadata: {name: yaml-review}
spec:
  startAt: review
  states:
    - name: review
      type: user
      assignee: bob
      boundary:
        - {type: message, message: cancel-order, correlation_key: "${order_id}", next: dropped}
        - {type: signal, signal: recall, interrupting: false, next: noted}
      next: done
    - {name: dropped, type: task, resource: test.mark, end: true}
    - {name: noted, type: task, resource: test.mark, end: true}
    - {name: done, type: succeed}
"""


@pytest.mark.django_db
def test_yaml__message_and_signal_boundaries_on_a_user_state(bob):
    from processes.services import definition_publish, signal_broadcast

    definition_publish(source=YAML, format="yaml")
    instance = instance_start(definition_key="yaml-review", variables={"order_id": "Y-1"})
    assert signal_broadcast(name="recall") == 1
    run_due_jobs()
    assert Task.objects.get(instance=instance).state == TaskState.ASSIGNED
    assert event_types(instance, "noted").count("TASK_COMPLETED") == 1
    message_correlate(name="cancel-order", correlation_key="Y-1")
    run_due_jobs()
    assert Task.objects.get(instance=instance).state == TaskState.CANCELLED
    assert fresh(instance).status == InstanceStatus.COMPLETED
    assert event_types(instance, "dropped").count("TASK_COMPLETED") == 1
