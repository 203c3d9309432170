"""The inclusive gateway: the split takes every branch whose condition holds (the default
only when none does); the join waits for every token that can still reach it and no
longer: not for a branch that was not taken, but for one still running; a token that goes
elsewhere releases it. Each case written in JSON and in YAML."""

import pytest
from django.contrib.auth.models import User

from processes.dsl import DefinitionError, compile_definition
from processes.models import Event, Job, ProcessInstance, Token
from processes.services import definition_publish, instance_start
from processes.statuses import InstanceStatus, TokenStatus
from tasks.models import Task
from tasks.services import task_complete
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.workers import wait_for

HEADER = "apiVersion: flowdesk/v1\nkind: WorkflowDefinition\nmetadata: {name: KEY}\nspec:\n"


def publish_yaml(key: str, spec: str) -> None:
    definition_publish(source=HEADER.replace("KEY", key) + spec, format="yaml")


def or_json(key: str) -> None:
    publish(
        key,
        [
            {
                "id": "split",
                "type": "inclusive_gateway",
                "config": {
                    "conditions": [
                        {"expression": "${a}", "next": "A"},
                        {"expression": "${b}", "next": "review"},
                    ],
                    "default": "C",
                },
            },
            service_step("A", "test.mark", next=["join"]),
            {
                "id": "review",
                "type": "user_task",
                "config": {"assignee": "bob", "form": {"approved": "boolean"}},
                "next": ["check"],
            },
            {
                "id": "check",
                "type": "exclusive_gateway",
                "config": {
                    "conditions": [{"expression": "${approved}", "next": "join"}],
                    "default": "skipped",
                },
            },
            {"id": "skipped", "type": "end"},
            service_step("C", "test.mark", next=["join"]),
            {"id": "join", "type": "inclusive_gateway", "next": ["after"]},
            service_step("after", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )


def or_yaml(key: str) -> None:
    publish_yaml(
        key,
        """\
  startAt: split
  states:
    - name: split
      type: inclusive
      choices:
        - {condition: "${a}", next: A}
        - {condition: "${b}", next: review}
      default: C
    - {name: A, type: task, resource: test.mark, next: join}
    - {name: review, type: user, assignee: bob, form: {approved: boolean}, next: check}
    - name: check
      type: choice
      choices:
        - {condition: "${approved}", next: join}
      default: skipped
    - {name: skipped, type: succeed}
    - {name: C, type: task, resource: test.mark, next: join}
    - {name: join, type: inclusive, next: after}
    - {name: after, type: task, resource: test.mark, next: end}
    - {name: end, type: succeed}
""",
    )


BOTH = pytest.mark.parametrize("publish_or", [or_json, or_yaml], ids=["json", "yaml"])


@pytest.fixture
def bob():
    return User.objects.create_user("bob")


def joins(instance, step_id: str = "join") -> list[list[str]]:
    """The paths each firing of join `step_id` consumed."""
    events = Event.objects.filter(
        instance=instance, type="JOIN_COMPLETED", step_id=step_id
    ).order_by("id")
    return [event.payload["branches"] for event in events]


def ran(instance) -> list[str]:
    completed = Event.objects.filter(instance=instance, type="TASK_COMPLETED").order_by("id")
    return list(completed.values_list("step_id", flat=True))


@pytest.mark.django_db
@BOTH
def test_inclusive__a_branch_not_taken_is_not_waited_for(publish_or):
    publish_or("or")
    instance = instance_start(definition_key="or", variables={"a": True, "b": False})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert ran(instance) == ["A", "after"]
    assert joins(instance) == [["A"]]
    assert not Task.objects.exists()


@pytest.mark.django_db
@BOTH
def test_inclusive__all_branches_taken_are_all_waited_for(publish_or, bob):
    publish_or("or")
    instance = instance_start(definition_key="or", variables={"a": True, "b": True})
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.RUNNING  # A waits at the join for review
    assert Token.objects.get(instance=instance, status=TokenStatus.WAITING).node_id == "join"
    assert not Job.objects.filter(step_id="after").exists()

    task_complete(task=Task.objects.get(step_id="review"), user=bob, variables={"approved": True})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert joins(instance) == [["A", "check"]]
    assert ran(instance) == ["A", "review", "after"]
    assert event_types(instance, "split").count("GATEWAY_EVALUATED") == 2


@pytest.mark.django_db
@BOTH
def test_inclusive__the_default_alone_when_no_condition_holds(publish_or):
    publish_or("or")
    instance = instance_start(definition_key="or", variables={"a": False, "b": False})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert ran(instance) == ["C", "after"]


@pytest.mark.django_db
@BOTH
def test_inclusive__a_token_that_goes_elsewhere_releases_the_waiting_join(publish_or, bob):
    publish_or("or")
    instance = instance_start(definition_key="or", variables={"a": True, "b": True})
    run_due_jobs()

    task_complete(task=Task.objects.get(step_id="review"), user=bob, variables={"approved": False})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert joins(instance) == [["A"]]
    assert ran(instance) == ["A", "review", "after"]
    assert not Token.objects.filter(instance=instance, status=TokenStatus.WAITING).exists()


@pytest.mark.django_db
def test_inclusive__no_condition_and_no_default_fails_like_the_exclusive_gateway():
    publish(
        "or-none",
        [
            {
                "id": "split",
                "type": "inclusive_gateway",
                "config": {"conditions": [{"expression": "${a}", "next": "A"}]},
            },
            service_step("A", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    instance = fresh(instance_start(definition_key="or-none", variables={"a": False}))
    assert instance.status == InstanceStatus.FAILED
    assert (instance.error["step_id"], instance.error["error"]) == ("split", "NoChoiceMatched")


def nested_json(key: str) -> None:
    publish(
        key,
        [
            {"id": "fork", "type": "parallel_gateway", "next": ["split", "sign"]},
            {
                "id": "split",
                "type": "inclusive_gateway",
                "config": {
                    "conditions": [
                        {"expression": "${x}", "next": "X"},
                        {"expression": "${y}", "next": "Y"},
                    ]
                },
            },
            service_step("X", "test.mark", next=["merge"]),
            service_step("Y", "test.mark", next=["merge"]),
            {"id": "merge", "type": "inclusive_gateway", "next": ["checked"]},
            service_step("checked", "test.mark", next=["join"]),
            {"id": "sign", "type": "user_task", "config": {"assignee": "bob"}, "next": ["join"]},
            {"id": "join", "type": "parallel_gateway", "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    )


def nested_yaml(key: str) -> None:
    publish_yaml(
        key,
        """\
  startAt: fork
  states:
    - name: fork
      type: parallel
      branches:
        - - name: split
            type: inclusive
            choices:
              - {condition: "${x}", next: X}
              - {condition: "${y}", next: Y}
          - {name: X, type: task, resource: test.mark, next: merge}
          - {name: Y, type: task, resource: test.mark, next: merge}
          - {name: merge, type: inclusive, next: checked}
          - {name: checked, type: task, resource: test.mark, end: true}
        - - {name: sign, type: user, assignee: bob, end: true}
      next: end
    - {name: end, type: succeed}
""",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("publish_nested", [nested_json, nested_yaml], ids=["json", "yaml"])
def test_inclusive__nested_in_a_parallel_does_not_wait_for_the_other_branch(publish_nested, bob):
    publish_nested("or-in-and")
    instance = instance_start(definition_key="or-in-and", variables={"x": True, "y": False})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.RUNNING  # the parallel join waits for sign
    assert ran(instance) == ["X", "checked"]
    assert joins(instance, "merge") == [["X"]]

    task_complete(task=Task.objects.get(step_id="sign"), user=bob, variables={})

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert joins(instance, "merge") == [["X"]]
    assert len(joins(instance, "join" if publish_nested is nested_json else "fork.join")) == 1


def loop_json(key: str) -> None:
    publish(
        key,
        [
            service_step("prep", "test.mark", next=["split"]),
            {
                "id": "split",
                "type": "inclusive_gateway",
                "config": {
                    "conditions": [
                        {"expression": "${a}", "next": "A"},
                        {"expression": "${b}", "next": "B"},
                    ]
                },
            },
            service_step("A", "test.mark", next=["join"]),
            service_step("B", "test.mark", next=["join"]),
            {"id": "join", "type": "inclusive_gateway", "next": ["again"]},
            {
                "id": "again",
                "type": "exclusive_gateway",
                "config": {
                    "conditions": [{"expression": "${round < 2}", "next": "bump"}],
                    "default": "end",
                },
            },
            service_step(
                "bump", "test.echo", next=["split"], input={"round": "${round + 1}", "b": False}
            ),
            {"id": "end", "type": "end"},
        ],
    )


def loop_yaml(key: str) -> None:
    publish_yaml(
        key,
        """\
  startAt: prep
  states:
    - {name: prep, type: task, resource: test.mark, next: split}
    - name: split
      type: inclusive
      choices:
        - {condition: "${a}", next: A}
        - {condition: "${b}", next: B}
    - {name: A, type: task, resource: test.mark, next: join}
    - {name: B, type: task, resource: test.mark, next: join}
    - {name: join, type: inclusive, next: again}
    - name: again
      type: choice
      choices:
        - {condition: "${round < 2}", next: bump}
      default: end
    - name: bump
      type: task
      resource: test.echo
      input: {round: "${round + 1}", b: false}
      next: split
    - {name: end, type: succeed}
""",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("publish_loop", [loop_json, loop_yaml], ids=["json", "yaml"])
def test_inclusive__a_loop_back_to_the_split_joins_each_round_once(publish_loop):
    publish_loop("or-loop")
    instance = instance_start(
        definition_key="or-loop", variables={"a": True, "b": True, "round": 1}
    )
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert joins(instance) == [["A", "B"], ["A"]]
    # The split merges the way in and the way back: it is an OR-join too.
    assert joins(instance, "split") == [["prep"], ["bump"]]
    assert ran(instance).count("A") == 2
    assert ran(instance).count("B") == 1
    assert instance.variables["round"] == 2


@pytest.mark.worker
@pytest.mark.parametrize("publish_or", [loop_json, loop_yaml], ids=["json", "yaml"])
def test_inclusive__branches_on_real_workers_join_once_per_round(publish_or, workers):
    publish_or("or-workers")
    workers.start("w0", beat=True)
    workers.start("w1")
    instances = [
        instance_start(definition_key="or-workers", variables={"a": True, "b": True, "round": 1})
        for _ in range(10)
    ]
    wait_for(
        lambda: ProcessInstance.objects.filter(status="completed").count() == 10,
        timeout=120,
        interval=0.3,
        what="all 10 instances",
    )
    for instance in instances:
        assert joins(instance) == [["A", "B"], ["A"]]
        assert not Token.objects.filter(instance=instance, status=TokenStatus.WAITING).exists()


@pytest.mark.parametrize(
    ("config", "path", "problem"),
    [
        ({}, "/steps/0", "an inclusive gateway needs conditions, a 'default' or a 'next'"),
        ({"conditions": []}, "/steps/0/config/conditions", "needs at least one condition"),
        (
            {"conditions": [{"expression": "${a +}", "next": "end"}]},
            "/steps/0/config/conditions/0/expression",
            "bad expression",
        ),
    ],
)
def test_inclusive__problems_name_their_place(config, path, problem):
    import json

    document = {
        "name": "bad",
        "steps": [
            {"id": "split", "type": "inclusive_gateway", "config": config},
            {"id": "end", "type": "end"},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_definition(json.dumps(document), "json")
    found = [(p.path, p.message) for p in caught.value.problems]
    assert any(where == path and problem in message for where, message in found), found
