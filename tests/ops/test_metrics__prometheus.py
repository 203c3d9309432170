"""GET /metrics parses as Prometheus text and its figures move as instances run."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from processes.models import Timer
from processes.services import definition_publish, instance_start, instance_suspend
from processes.services.timers import timer_fire_now, timers_fire_due
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


def test_metrics__timers_due_and_the_lag_of_fired_timers(transactional_db, client):
    publish("waiting", [{"id": "pause", "type": "timer", "config": {"duration": "1h"}}])
    late, suspended, early = (instance_start(definition_key="waiting") for _ in range(3))
    past = timezone.now() - timedelta(seconds=30)
    Timer.objects.filter(instance__in=[late, suspended]).update(due_at=past)
    instance_suspend(instance=suspended)  # its timer waits for the resume: not counted
    before = scrape(client)
    assert value(before, "workflow_timers_due") == 1

    assert timers_fire_due() == 1  # `late`, about 30 seconds after its due time
    after = scrape(client)
    assert value(after, "workflow_timers_due") == 0
    lag_count = "workflow_timer_lag_seconds_count"
    assert value(after, lag_count) - value(before, lag_count) == 1
    lag = value(after, "workflow_timer_lag_seconds_sum") - value(
        before, "workflow_timer_lag_seconds_sum"
    )
    assert 30 <= lag < 300
    under_a_minute = "workflow_timer_lag_seconds_bucket"
    assert value(after, under_a_minute, le="60.0") - value(before, under_a_minute, le="60.0") == 1
    assert value(after, under_a_minute, le="10.0") == value(before, under_a_minute, le="10.0")

    # Fired ahead of time by a person: no lag to measure.
    timer_fire_now(timer_id=Timer.objects.get(instance=early).pk, reason="now", user=None)
    assert value(scrape(client), lag_count) == value(after, lag_count)
