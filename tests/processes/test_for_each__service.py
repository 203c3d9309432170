"""A service step with `config.for_each` runs once per item: in parallel or one after the
other in list order, each item seeing `${item}` (or its `as` name) and `${loop.index}`;
`collect` lists the item results in item order. An empty list ends at once, too many items
or items that are no list fail the step (catchable); `complete_when` ends it early; a failing
item is caught (the others cancelled) or fails the instance, whose retry reruns that item
only; a duplicate report for an item changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from processes.models import Event, Job
from processes.services import instance_retry, instance_start, job_run
from processes.services.job_reports import job_report_success
from processes.services.leases import job_lease
from processes.statuses import InstanceStatus, JobStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh, run_due_jobs

pytestmark = pytest.mark.django_db

NAMES = ["ann", "bob", "cy"]
ECHO_INPUT = {"who": "${who}", "at": "${loop.index}", "of": "${loop.total}"}


def each_step(*, next=("after",), catch=None, **for_each) -> dict:
    """A test.echo step over `${names}`, each item named `who`, collected into `echoes`."""
    config = {"items": "${names}", "as": "who", "collect": "echoes", **for_each}
    extra = {"catch": catch} if catch else {}
    return service_step(
        "each", "test.echo", input=ECHO_INPUT, for_each=config, next=list(next), **extra
    )


def publish_each(key: str, step: dict, *others: dict) -> None:
    publish(key, [step, *others, service_step("after", "test.mark")])


def item_jobs(instance) -> list[Job]:
    """The step's item jobs in item order."""
    jobs = Job.objects.filter(instance=instance, step_id="each").select_related("token")
    return sorted(jobs, key=lambda job: job.token.loop_index)


def loop_events(instance, type: str) -> list[int]:
    """`loop_index` of the step's `type` events, in the order they were written."""
    events = Event.objects.filter(instance=instance, step_id="each", type=type).order_by("id")
    return [event.payload["loop_index"] for event in events]


def cancelled_items(instance) -> list[int]:
    """The items whose job the step's TASK_CANCELLED events name."""
    events = Event.objects.filter(instance=instance, step_id="each", type="TASK_CANCELLED")
    jobs = [Job.objects.get(pk=event.payload["job_id"]) for event in events.order_by("id")]
    return [job.token.loop_index for job in jobs]


def echo(who: str, at: int, of: int = 3) -> dict:
    return {"who": who, "at": at, "of": of}


def test_for_each__parallel_runs_every_item_and_collects_in_item_order():
    publish_each("fe-parallel", each_step())
    instance = instance_start(definition_key="fe-parallel", variables={"names": NAMES})

    jobs = item_jobs(instance)
    assert [job.input for job in jobs] == [echo("ann", 0), echo("bob", 1), echo("cy", 2)]
    assert [job.token.loop_index for job in jobs] == [0, 1, 2]
    assert all(job.status == JobStatus.SCHEDULED for job in jobs)  # all at once
    for job in reversed(jobs):  # completing last item first must not change the order
        job_run(job_id=job.pk)
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), echo("cy", 2)]
    assert instance.variables["ran_after"] is True
    # the item's own names and its results stay inside the loop: only `collect` is merged
    assert not {"who", "at", "of", "loop"} & set(instance.variables)
    assert sorted(loop_events(instance, "TASK_SCHEDULED")) == [0, 1, 2]
    assert loop_events(instance, "TASK_COMPLETED") == [2, 1, 0]
    started = Event.objects.get(instance=instance, step_id="each", type="LOOP_STARTED")
    completed = Event.objects.get(instance=instance, step_id="each", type="LOOP_COMPLETED")
    assert started.payload["total"] == 3
    assert (completed.payload["completed"], completed.payload["total"]) == (3, 3)
    assert completed.payload["cancelled"] == 0
    assert event_types(instance, "after") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_for_each__item_is_the_default_name_and_without_collect_nothing_is_merged():
    step = service_step(
        "each",
        "test.echo",
        input={"got": "${item}"},
        for_each={"items": "${names}"},
        next=["after"],
    )
    publish_each("fe-default", step)
    instance = instance_start(definition_key="fe-default", variables={"names": NAMES})
    assert [job.input for job in item_jobs(instance)] == [{"got": n} for n in NAMES]
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables == {"names": NAMES, "ran_after": True}


def test_for_each__sequential_runs_one_item_at_a_time_in_list_order():
    publish_each("fe-sequential", each_step(parallel=False))
    with override_settings(FLOWDESK_ENGINE={**settings.FLOWDESK_ENGINE, "CHAIN_STEPS": 0}):
        instance = instance_start(definition_key="fe-sequential", variables={"names": NAMES})
        for index, name in enumerate(NAMES):
            [open_job] = Job.objects.filter(instance=instance, step_id="each").exclude(
                status=JobStatus.SUCCEEDED
            )
            assert (open_job.token.loop_index, open_job.input) == (index, echo(name, index))
            assert Job.objects.filter(instance=instance, step_id="each").count() == index + 1
            job_run(job_id=open_job.pk)
        run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), echo("cy", 2)]
    item_events = [
        (event.type, event.payload["loop_index"])
        for event in Event.objects.filter(
            instance=instance, step_id="each", type__in=("TASK_SCHEDULED", "TASK_COMPLETED")
        ).order_by("id")
    ]
    assert item_events == [
        ("TASK_SCHEDULED", 0),
        ("TASK_COMPLETED", 0),
        ("TASK_SCHEDULED", 1),
        ("TASK_COMPLETED", 1),
        ("TASK_SCHEDULED", 2),
        ("TASK_COMPLETED", 2),
    ]


def test_for_each__max_concurrency_starts_the_next_item_when_one_ends():
    publish_each("fe-two-at-a-time", each_step(max_concurrency=2))
    names = [*NAMES, "dan"]
    with override_settings(FLOWDESK_ENGINE={**settings.FLOWDESK_ENGINE, "CHAIN_STEPS": 0}):
        instance = instance_start(definition_key="fe-two-at-a-time", variables={"names": names})
        assert [job.token.loop_index for job in item_jobs(instance)] == [0, 1]
        job_run(job_id=item_jobs(instance)[1].pk)
        assert [job.token.loop_index for job in item_jobs(instance)] == [0, 1, 2]
        run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert [entry["who"] for entry in instance.variables["echoes"]] == names


def test_for_each__empty_list_ends_the_step_at_once_with_an_empty_collect():
    publish("fe-empty", [each_step(next=["done"]), {"id": "done", "type": "end"}])
    instance = fresh(instance_start(definition_key="fe-empty", variables={"names": []}))
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == []
    assert not Job.objects.filter(instance=instance).exists()
    types = event_types(instance, "each")
    assert "TASK_SCHEDULED" not in types
    assert types.count("LOOP_COMPLETED") == 1


def limit(n: int):
    return override_settings(FLOWDESK_ENGINE={**settings.FLOWDESK_ENGINE, "MAX_ITEMS": n})


def test_for_each__more_items_than_max_items_fails_the_step_naming_count_and_limit():
    publish_each("fe-too-many", each_step())
    with limit(3):
        at_limit = instance_start(definition_key="fe-too-many", variables={"names": NAMES})
        over = instance_start(definition_key="fe-too-many", variables={"names": [*NAMES, "dan"]})
    assert Job.objects.filter(instance=at_limit, step_id="each").count() == 3

    over = fresh(over)
    assert over.status == InstanceStatus.FAILED
    assert (over.error["error"], over.error["step_id"]) == ("ForEachTooManyItems", "each")
    assert "4" in over.error["message"] and "3" in over.error["message"]
    assert not Job.objects.filter(instance=over).exists()


def test_for_each__too_many_items_is_caught_like_any_step_failure():
    catch = [{"error_equals": ["ForEachTooManyItems"], "next": "split_up"}]
    publish_each(
        "fe-too-many-caught", each_step(catch=catch), service_step("split_up", "test.mark")
    )
    with limit(2):
        instance = instance_start(definition_key="fe-too-many-caught", variables={"names": NAMES})
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["last_error"]["error"] == "ForEachTooManyItems"
    assert instance.variables["ran_split_up"] is True
    assert "ran_after" not in instance.variables
    assert not Job.objects.filter(instance=instance, step_id="each").exists()


@pytest.mark.parametrize(
    "names", ["ann", {"ann": 1}, 7, None], ids=["text", "object", "int", "null"]
)
def test_for_each__items_that_are_no_list_fail_the_step(names):
    publish_each("fe-not-a-list", each_step())
    instance = fresh(instance_start(definition_key="fe-not-a-list", variables={"names": names}))
    assert instance.status == InstanceStatus.FAILED
    assert (instance.error["error"], instance.error["step_id"]) == ("ForEachItemsInvalid", "each")
    assert not Job.objects.filter(instance=instance).exists()


def test_for_each__a_bad_complete_when_fails_the_step_with_an_expression_error():
    publish_each("fe-bad-when", each_step(complete_when="${loop.completed >= nowhere}"))
    instance = instance_start(definition_key="fe-bad-when", variables={"names": NAMES})
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.FAILED
    assert (instance.error["error"], instance.error["step_id"]) == ("ExpressionError", "each")


def test_for_each__complete_when_ends_a_sequential_loop_early_with_null_for_the_rest():
    publish_each(
        "fe-two-of-three", each_step(parallel=False, complete_when="${loop.completed >= 2}")
    )
    instance = instance_start(definition_key="fe-two-of-three", variables={"names": NAMES})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), None]
    assert instance.variables["ran_after"] is True
    assert [job.token.loop_index for job in item_jobs(instance)] == [0, 1]  # never started
    completed = Event.objects.get(instance=instance, step_id="each", type="LOOP_COMPLETED")
    assert (completed.payload["completed"], completed.payload["total"]) == (2, 3)


def test_for_each__complete_when_cancels_the_running_items_and_their_late_success_is_ignored():
    publish_each("fe-first-two", each_step(complete_when="${loop.completed >= 2}"))
    instance = instance_start(definition_key="fe-first-two", variables={"names": NAMES})
    first, second, third = item_jobs(instance)
    late = job_lease(job_id=third.pk)  # a worker runs the third item now

    job_run(job_id=second.pk)
    assert fresh(instance).status == InstanceStatus.RUNNING  # one done: not yet
    job_run(job_id=first.pk)

    instance = fresh(instance)
    assert Job.objects.get(pk=third.pk).status == JobStatus.CANCELLED
    assert cancelled_items(instance) == [2]
    completed = Event.objects.get(instance=instance, step_id="each", type="LOOP_COMPLETED")
    assert completed.payload["cancelled"] == 1
    assert job_report_success(lease=late, result=echo("cy", 2)).accepted is False
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), None]
    assert loop_events(instance, "TASK_COMPLETED") == [1, 0]
    assert event_types(instance, "after") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def flaky_each(*, catch=None, **for_each) -> dict:
    """Items fail once where `fails` says so (test.flaky succeeds on attempt `succeed_on`)."""
    for_each = {"items": "${plan}", "as": "fails", "collect": "attempts", **for_each}
    return service_step(
        "each",
        "test.flaky",
        input={"succeed_on": "${2 if fails else 1}"},
        for_each=for_each,
        next=["after"],
        **({"catch": catch} if catch else {}),
    )


def test_for_each__a_failing_item_with_a_catch_cancels_the_others_and_takes_the_catch():
    catch = [{"error_equals": ["FlakyError"], "next": "handle"}]
    publish_each("fe-caught", flaky_each(catch=catch), service_step("handle", "test.mark"))
    instance = instance_start(definition_key="fe-caught", variables={"plan": [False, True, False]})
    first, failing, third = item_jobs(instance)
    job_run(job_id=first.pk)
    job_run(job_id=failing.pk)

    instance = fresh(instance)
    assert Job.objects.get(pk=third.pk).status == JobStatus.CANCELLED
    assert cancelled_items(instance) == [2]
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["last_error"]["error"] == "FlakyError"
    assert instance.variables["last_error"]["step"] == "each"
    assert instance.variables["ran_handle"] is True
    assert "ran_after" not in instance.variables
    assert Job.objects.get(pk=third.pk).status == JobStatus.CANCELLED  # it never ran
    assert loop_events(instance, "TASK_COMPLETED") == [0]


def test_for_each__a_failing_item_without_catch_fails_the_instance_and_retry_reruns_only_it():
    publish_each("fe-retry", flaky_each())
    instance = instance_start(definition_key="fe-retry", variables={"plan": [False, True, False]})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.FAILED
    assert (instance.error["error"], instance.error["step_id"]) == ("FlakyError", "each")
    assert "attempts" not in instance.variables

    instance_retry(instance=instance)
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["attempts"] == [
        {"flaky_attempts": 1},
        {"flaky_attempts": 2},
        {"flaky_attempts": 1},
    ]
    assert sorted(loop_events(instance, "TASK_COMPLETED")) == [0, 1, 2]  # each once
    scheduled = loop_events(instance, "TASK_SCHEDULED")
    assert (scheduled.count(0), scheduled.count(2)) == (1, 1)  # the others did not run again
    assert event_types(instance, "each").count("LOOP_COMPLETED") == 1
    assert event_types(instance, "after") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_for_each__a_sequential_loop_goes_on_after_the_retried_item():
    publish_each("fe-retry-sequential", flaky_each(parallel=False))
    instance = instance_start(
        definition_key="fe-retry-sequential", variables={"plan": [False, True, False]}
    )
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.FAILED
    assert [job.token.loop_index for job in item_jobs(instance)] == [0, 1]  # 2 waits its turn

    instance_retry(instance=instance)
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["attempts"] == [
        {"flaky_attempts": 1},
        {"flaky_attempts": 2},
        {"flaky_attempts": 1},
    ]
    assert loop_events(instance, "TASK_COMPLETED") == [0, 1, 2]


def test_for_each__a_duplicate_success_report_for_an_item_counts_once():
    publish_each("fe-duplicate", each_step(complete_when="${loop.completed >= 2}"))
    instance = instance_start(definition_key="fe-duplicate", variables={"names": NAMES})
    first, second, third = item_jobs(instance)
    lease = job_lease(job_id=first.pk)
    job_report_success(lease=lease, result=echo("ann", 0))
    before = event_types(instance)
    duplicate = job_report_success(lease=lease, result=echo("ann", 0))
    job_run(job_id=first.pk)  # the message delivered again
    job_run(job_id=first.pk)

    assert duplicate.accepted is False
    assert event_types(instance) == before
    instance = fresh(instance)
    assert instance.status == InstanceStatus.RUNNING  # one item done, not two
    assert Job.objects.get(pk=second.pk).status == JobStatus.SCHEDULED
    assert Job.objects.get(pk=third.pk).status == JobStatus.SCHEDULED

    job_run(job_id=second.pk)
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), None]
    assert loop_events(instance, "TASK_COMPLETED") == [0, 1]


def test_for_each__a_late_duplicate_after_the_step_ended_changes_nothing():
    publish_each("fe-late-duplicate", each_step())
    instance = instance_start(definition_key="fe-late-duplicate", variables={"names": NAMES})
    jobs = item_jobs(instance)
    run_due_jobs()
    instance = fresh(instance)
    before = (event_types(instance), instance.variables)
    for job in jobs:
        job_run(job_id=job.pk)
    instance = fresh(instance)
    assert (event_types(instance), instance.variables) == before
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), echo("cy", 2)]


def test_for_each__a_cancelled_item_is_named_by_its_loop_index_in_the_history():
    """Like TASK_SCHEDULED and TASK_COMPLETED, an item's TASK_CANCELLED says which item it
    was: three events of one step are told apart without looking up their jobs."""
    publish_each("fe-cancel-history", each_step(complete_when="${loop.completed >= 1}"))
    instance = instance_start(definition_key="fe-cancel-history", variables={"names": NAMES})
    job_run(job_id=item_jobs(instance)[1].pk)
    assert sorted(loop_events(instance, "TASK_CANCELLED")) == [0, 2]


def test_for_each__a_loop_in_a_parallel_branch_reaches_the_join_once():
    publish(
        "fe-branch",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["each", "side"]},
            each_step(next=["join"]),
            service_step("side", "test.mark", next=["join"]),
            {"id": "join", "type": "parallel_gateway", "next": ["after"]},
            service_step("after", "test.mark"),
        ],
    )
    instance = instance_start(definition_key="fe-branch", variables={"names": NAMES})
    run_due_jobs()

    instance = fresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["echoes"] == [echo("ann", 0), echo("bob", 1), echo("cy", 2)]
    assert event_types(instance).count("JOIN_COMPLETED") == 1
    assert event_types(instance, "after") == ["TASK_SCHEDULED", "TASK_COMPLETED"]
    assert instance.active_tokens == 0
