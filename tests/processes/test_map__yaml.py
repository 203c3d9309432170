"""A YAML `type: map` state runs its iterator (a task, then a choice) once per item of
`itemsPath`, the item named `itemName`; `resultPath` gets each iteration's variables in item
order. `maxConcurrency: 2` never has more than two items in flight, as counted by the
service itself on real workers; `0` runs all at once. A map without an iterator, or whose
iterator names a state outside it, is refused at publishing with the JSON pointer."""

from __future__ import annotations

import pytest

from processes.dsl import DefinitionError
from processes.models import Job, ProcessDefinition, ProcessInstance
from processes.services import definition_publish, instance_start, job_run
from processes.statuses import InstanceStatus, JobStatus
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.services import concurrency_counter
from tests.support.workers import wait_for

PRICING = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: KEY}
spec:
  startAt: each
  states:
    - name: each
      type: map
      itemsPath: "${orders}"
      itemName: order
      maxConcurrency: MAX
      resultPath: "$.priced"
      iterator:
        startAt: price
        states:
          - name: price
            type: task
            resource: test.echo
            input: {total: "${order.qty * order.unit}", index: "${loop.index}"}
            next: check
          - name: check
            type: choice
            choices:
              - {condition: "total > 100", next: big}
            default: small
          - {name: big, type: task, resource: test.echo, input: {size: big}, end: true}
          - {name: small, type: task, resource: test.echo, input: {size: small}, end: true}
      next: after
    - {name: after, type: task, resource: test.mark, end: true}
"""

ORDERS = [{"qty": 2, "unit": 30}, {"qty": 5, "unit": 40}, {"qty": 1, "unit": 50}]
PRICED = [
    {"total": 60, "index": 0, "size": "small"},
    {"total": 200, "index": 1, "size": "big"},
    {"total": 50, "index": 2, "size": "small"},
]


def publish_pricing(key: str, max_concurrency: int = 0) -> None:
    source = PRICING.replace("KEY", key).replace("MAX", str(max_concurrency))
    definition_publish(source=source, format="yaml")


def items(instance) -> list[ProcessInstance]:
    """The map's item instances, in item order."""
    kids = ProcessInstance.objects.filter(parent=instance)
    return sorted(kids, key=lambda kid: kid.variables["loop"]["index"])


def run_item(item: ProcessInstance) -> None:
    """Run the item's jobs, and only its, until it has none due."""
    while due := list(Job.objects.filter(instance=item, status=JobStatus.SCHEDULED)):
        for job in due:
            job_run(job_id=job.pk)


@pytest.mark.django_db(transaction=True)
def test_map__each_item_runs_the_iterator_and_results_are_collected_in_item_order():
    publish_pricing("map-pricing")
    instance = instance_start(definition_key="map-pricing", variables={"orders": ORDERS})

    kids = items(instance)
    assert len(kids) == 3
    for index, (kid, order) in enumerate(zip(kids, ORDERS, strict=True)):
        assert (kid.parent_step, kid.scope) == ("each", "each")
        assert kid.definition_version_id == instance.definition_version_id
        assert kid.variables == {
            "orders": ORDERS,
            "order": order,
            "loop": {"index": index, "total": 3},
        }
    for kid in reversed(kids):  # the last item finishes first
        run_item(kid)
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["priced"] == PRICED
    assert instance.variables["ran_after"] is True
    assert not {"order", "loop", "total", "size", "index"} & set(instance.variables)
    assert [fresh(kid).status for kid in kids] == [InstanceStatus.COMPLETED] * 3
    assert event_types(instance, "after") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


@pytest.mark.django_db(transaction=True)
def test_map__an_empty_list_goes_on_at_once():
    publish_pricing("map-empty")
    instance = instance_start(definition_key="map-empty", variables={"orders": []})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["priced"] == []
    assert not ProcessInstance.objects.filter(parent=instance).exists()


@pytest.mark.django_db(transaction=True)
def test_map__max_concurrency_starts_the_next_item_only_when_one_ends():
    publish_pricing("map-two-at-a-time", max_concurrency=2)
    orders = [*ORDERS, {"qty": 3, "unit": 10}, {"qty": 9, "unit": 20}]
    instance = instance_start(definition_key="map-two-at-a-time", variables={"orders": orders})

    finished = []
    while len(finished) < len(orders):
        running = [kid for kid in items(instance) if kid.status == InstanceStatus.RUNNING]
        assert len(running) == min(2, len(orders) - len(finished))
        run_item(running[-1])  # the later one first: order of ending is free
        finished.append(running[-1].variables["loop"]["index"])
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert [entry["index"] for entry in instance.variables["priced"]] == [0, 1, 2, 3, 4]
    assert instance.variables["priced"][3] == {"total": 30, "index": 3, "size": "small"}


CONCURRENCY = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: KEY}
spec:
  startAt: each
  states:
    - name: each
      type: map
      itemsPath: "${numbers}"
      maxConcurrency: MAX
      resultPath: results
      iterator:
        startAt: count
        states:
          - name: count
            type: task
            resource: test.concurrency
            input: {key: KEY, n: "${item}", seconds: 1}
            end: true
      end: true
"""


@pytest.mark.worker
@pytest.mark.parametrize("max_concurrency", [2, 0], ids=["two", "all"])
def test_map__max_concurrency_is_never_exceeded_on_real_workers(workers, max_concurrency):
    """Four worker processes could run four items at once: `maxConcurrency: 2` lets two."""
    key = f"map-concurrency-{max_concurrency}"
    source = CONCURRENCY.replace("KEY", key).replace("MAX", str(max_concurrency))
    definition_publish(source=source, format="yaml")
    workers.start("first", concurrency=2, beat=True)
    workers.start("second", concurrency=2)
    numbers = list(range(6))
    instance = instance_start(definition_key=key, variables={"numbers": numbers})
    wait_for(lambda: fresh(instance).status != InstanceStatus.RUNNING, timeout=90, what="the map")

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["results"] == [{"done": n} for n in numbers]
    counter = concurrency_counter()
    assert int(counter.get(f"{key}:calls")) == len(numbers)
    assert int(counter.get(f"{key}:active")) == 0
    if max_concurrency:
        assert int(counter.get(f"{key}:max")) == 2  # reached, never passed
    else:
        assert int(counter.get(f"{key}:max")) > 2  # the workers can run more than two


MAP_STATE = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: broken}
spec:
  startAt: each
  states:
    - name: each
      type: map
      itemsPath: "${numbers}"
      iterator:
        startAt: count
        states:
          - {name: count, type: task, resource: test.echo, next: last}
          - {name: last, type: task, resource: test.echo, end: true}
      next: after
    - {name: after, type: task, resource: test.mark, next: done}
    - {name: done, type: succeed}
"""
ITERATOR = MAP_STATE[MAP_STATE.index("      iterator:") : MAP_STATE.index("      next: after")]


def problems(source: str) -> dict[str, str]:
    """Publishing `source` is refused: its problems, message by JSON pointer."""
    with pytest.raises(DefinitionError) as caught:
        definition_publish(source=source, format="yaml")
    assert not ProcessDefinition.objects.filter(key="broken").exists()
    return {problem.path: problem.message for problem in caught.value.problems}


@pytest.mark.django_db
def test_map__the_definition_the_next_tests_break_is_valid_as_written():
    assert definition_publish(source=MAP_STATE, format="yaml").definition.key == "broken"


@pytest.mark.django_db
def test_map__without_an_iterator_is_refused_at_its_place():
    found = problems(MAP_STATE.replace(ITERATOR, ""))
    assert "iterator" in found["/spec/states/0/iterator"]


@pytest.mark.django_db
def test_map__an_iterator_state_naming_a_state_outside_it_is_refused():
    found = problems(MAP_STATE.replace("next: last}", "next: after}"))
    assert "'after'" in found["/spec/states/0/iterator/states/0/next"]


@pytest.mark.django_db
def test_map__a_state_outside_naming_an_iterator_state_is_refused():
    found = problems(MAP_STATE.replace("next: done}", "next: last}"))
    assert "'last'" in found["/spec/states/1/next"]


@pytest.mark.django_db
def test_map__without_items_path_is_refused_at_its_place():
    found = problems(MAP_STATE.replace('      itemsPath: "${numbers}"\n', ""))
    assert "itemsPath" in found["/spec/states/0/itemsPath"]


CAUGHT = """\
apiVersion: flowdesk/v1
kind: WorkflowDefinition
metadata: {name: map-caught}
spec:
  startAt: each
  states:
    - name: each
      type: map
      itemsPath: "${plan}"
      itemName: fails
      resultPath: attempts
      iterator:
        startAt: try
        states:
          - name: try
            type: task
            resource: test.flaky
            input: {succeed_on: "${2 if fails else 1}"}
            end: true
      catch:
        - {next: handle}
      next: after
    - {name: after, type: task, resource: test.mark, end: true}
    - {name: handle, type: task, resource: test.mark, end: true}
"""


@pytest.mark.django_db(transaction=True)
def test_map__a_failing_item_takes_the_maps_catch_and_the_other_items_are_cancelled():
    definition_publish(source=CAUGHT, format="yaml")
    instance = instance_start(definition_key="map-caught", variables={"plan": [False, True, False]})
    first, failing, third = items(instance)
    run_item(first)
    run_item(failing)
    assert fresh(third).status == InstanceStatus.CANCELLED
    run_due_jobs()

    instance = fresh(instance)
    assert fresh(failing).status == InstanceStatus.FAILED
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["ran_handle"] is True
    assert instance.variables["last_error"]["step"] == "each"
    assert "ran_after" not in instance.variables
    assert "attempts" not in instance.variables
