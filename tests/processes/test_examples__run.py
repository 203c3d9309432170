"""Every example definition under examples/ publishes and runs to completion.

User steps are completed by a superuser (a candidate for everything) with values that
satisfy the form, approving where there is something to approve; a step waiting for a
message or signal is sent it.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from processes.dsl import format_of_file
from processes.models import Subscription
from processes.services import definition_publish, instance_raise_event, instance_start
from processes.statuses import TaskState
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.engine import fresh, run_due_jobs

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.*"))
SAMPLE_VARIABLES = {
    "order-processing-workflow": {"order_id": "ORDER-1", "amount": 99.5},
    "order-flow": {"order_id": "ORDER-2", "customer_id": "C-9", "total_amount": 120.0},
    "leave-request": {"employee": "ann", "days": 3, "first_day": "2026-12-01"},
    "expense-approval": {"amount": 5000, "description": "conference trip"},
    "invoice-payment": {"invoice_id": "INV-7", "amount": 250},
    "order-saga": {"order_id": "ORDER-3", "amount": 42.0, "destination": "Berlin"},
}
SAMPLE_VALUES = {
    "boolean": True,
    "string": "ok",
    "text": "looks right",
    "number": 1,
    "integer": 1,
    "date": "2026-12-01",
}


def form_values(form: dict) -> dict:
    return {
        name: field["choices"][0] if field["type"] == "choice" else SAMPLE_VALUES[field["type"]]
        for name, field in form.items()
    }


def complete_open_tasks(instance, user) -> int:
    done = 0
    for task in Task.objects.filter(
        instance=instance, state__in=(TaskState.OPEN, TaskState.ASSIGNED)
    ):
        if task.state == TaskState.OPEN:
            task = task_claim(task=task, user=user)
        task_complete(task=task, user=task.assignee, variables=form_values(task.form))
        done += 1
    return done


def send_awaited_events(instance) -> int:
    waiting = Subscription.objects.filter(instance=instance, status="waiting")
    names = list(dict.fromkeys(waiting.values_list("name", flat=True)))
    for name in names:
        instance_raise_event(instance=fresh(instance), name=name)
    return len(names)


def test_examples__there_are_some():
    assert len(EXAMPLES) >= 3


@pytest.mark.django_db
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example__publishes_and_runs_to_completion(path):
    version = definition_publish(source=path.read_text(), format=format_of_file(path.name))
    key = version.definition.key
    operator = User.objects.create_superuser("operator")
    instance = instance_start(definition_key=key, variables=SAMPLE_VARIABLES.get(key, {}))
    for _ in range(10):
        run_due_jobs()
        if not complete_open_tasks(instance, operator) and not send_awaited_events(instance):
            break
    instance = fresh(instance)
    assert instance.status == "completed", instance.error
