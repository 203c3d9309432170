"""GET /metrics parses as Prometheus text and its figures move as instances run."""

import json

import pytest
from django.contrib.auth.models import Group, User
from prometheus_client.parser import text_string_to_metric_families

from processes.services import definition_publish, instance_start
from tasks.models import Task
from tasks.services import task_claim, task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics__counters_move_as_instances_run(worker, client):
    publish(
        "measured", [service_step("a", "test.mark", next=["b"]), service_step("b", "test.mark")]
    )
    before = scrape(client)
    instances = [instance_start(definition_key="measured") for _ in range(3)]
    wait_for(lambda: all(fresh(i).status == "completed" for i in instances), what="3 instances")
    after = scrape(client)

    succeeded = dict(type="service", outcome="succeeded")
    assert (
        value(after, "workflow_steps_total", **succeeded)
        - value(before, "workflow_steps_total", **succeeded)
        == 6
    )
    assert (
        value(after, "workflow_step_duration_seconds_count", type="service")
        - value(before, "workflow_step_duration_seconds_count", type="service")
        == 6
    )
    assert value(after, "workflow_instances_total", definition="measured", status="completed") == 3
    assert value(after, "workflow_instances_active") == 0
    assert value(after, "workflow_jobs_due") == 0
    assert any(name.startswith("django_http_requests") for name, _ in after)


def test_metrics__human_task_completion_is_measured(transactional_db, client):
    boss = User.objects.create_user("boss")
    boss.groups.add(Group.objects.create(name="approvers"))
    definition = {
        "name": "approve",
        "steps": [{"id": "ok", "type": "user_task", "config": {"candidate_groups": ["approvers"]}}],
    }
    definition_publish(source=json.dumps(definition), format="json")
    before = scrape(client)
    instance = instance_start(definition_key="approve")
    assert value(scrape(client), "workflow_instances_active") == 1
    task = task_claim(task=Task.objects.get(instance=instance), user=boss)
    task_complete(task=task, user=boss, variables={})
    after = scrape(client)
    assert (
        value(after, "workflow_task_completion_seconds_count")
        - value(before, "workflow_task_completion_seconds_count")
        == 1
    )
    assert (
        value(after, "workflow_steps_total", type="user", outcome="completed")
        - value(before, "workflow_steps_total", type="user", outcome="completed")
        == 1
    )
