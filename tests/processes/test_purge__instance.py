"""instance_purge: a finished instance goes with every row of it and of its children, and
nothing of any other instance; a running one, a child, and a parent whose child still runs
are refused with nothing deleted; only managers and admins may purge; the purge is logged
and counted."""

from __future__ import annotations

import logging

import pytest

from processes.errors import Conflict, NotAllowed, NotFound
from processes.models import ProcessInstance
from processes.services import instance_purge, instance_start, instance_terminate
from processes.statuses import InstanceStatus
from tests.api.support import member
from tests.processes.purge_world import (
    OWNED,
    all_rows,
    boss,
    publish_rich,
    purged_count,
    rows_of,
    run_rich,
    tree_of,
)
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_purge__a_completed_instance_and_its_child_leave_no_row_behind(caplog):
    publish_rich()
    instance = run_rich(order="A-1")
    other = run_rich(order="B-2")
    tree = tree_of(instance)
    assert len(tree) == 2
    before = rows_of(tree)
    assert all(before.values()), f"the instance should own a row in every table: {before}"
    others = rows_of(tree_of(other))
    total = all_rows()
    counted = purged_count("operator")

    with caplog.at_level(logging.INFO, logger="flowdesk.events"):
        assert instance_purge(instance=instance, user=member("mona", "manager")) == 2

    assert rows_of(tree) == dict.fromkeys(OWNED, 0)
    assert rows_of(tree_of(other)) == others
    assert all_rows() == {table: total[table] - before[table] for table in OWNED}
    assert purged_count("operator") == counted + 2
    [line] = [r for r in caplog.records if getattr(r, "event", "") == "INSTANCE_PURGED"]
    assert (line.instance_id, line.by, line.count) == (instance.pk, "mona", 2)


def test_purge__a_cancelled_and_a_failed_instance_go_too():
    publish_rich()
    boss()
    running = instance_start(definition_key="rich", variables={"xs": [1], "order": "C-3"})
    instance_terminate(instance=running)
    publish("fragile", [service_step("charge", "test.raise", input={"error": "Declined"})])
    failed = instance_start(definition_key="fragile")
    run_due_jobs()
    assert fresh(failed).status == InstanceStatus.FAILED
    assert fresh(running).status == InstanceStatus.CANCELLED

    assert instance_purge(instance=running) == 1
    assert instance_purge(instance=failed) == 1
    assert rows_of([running.pk, failed.pk]) == dict.fromkeys(OWNED, 0)


def test_purge__a_running_instance_is_refused_and_keeps_every_row():
    publish_rich()
    boss()
    instance = instance_start(definition_key="rich", variables={"xs": [1], "order": "D-4"})
    before = all_rows()

    with pytest.raises(Conflict, match="cannot purge an instance that is running"):
        instance_purge(instance=instance)

    assert all_rows() == before
    assert fresh(instance).status == InstanceStatus.RUNNING


def test_purge__a_child_is_purged_with_its_parent_only():
    publish_rich()
    instance = run_rich()
    child = ProcessInstance.objects.get(parent=instance)
    before = all_rows()

    with pytest.raises(Conflict, match=f"started by instance {instance.pk}"):
        instance_purge(instance=child)

    assert all_rows() == before


def test_purge__a_finished_parent_whose_child_still_runs_is_refused_naming_it():
    publish_rich()
    instance = run_rich()
    child = ProcessInstance.objects.get(parent=instance)
    ProcessInstance.objects.filter(pk=child.pk).update(status=InstanceStatus.RUNNING)
    before = all_rows()

    with pytest.raises(Conflict, match=f"its child instance {child.pk} is not finished"):
        instance_purge(instance=instance)

    assert all_rows() == before


def test_purge__only_managers_and_admins_may():
    publish_rich()
    instance = run_rich()
    clerk = member("clerk", "user")

    with pytest.raises(NotAllowed, match="only managers and admins may purge"):
        instance_purge(instance=instance, user=clerk)

    assert fresh(instance).status == InstanceStatus.COMPLETED
    assert instance_purge(instance=instance, user=member("root", "admin")) == 2


def test_purge__an_instance_purged_already_is_not_found():
    publish_rich()
    instance = run_rich()
    instance_purge(instance=instance)

    with pytest.raises(NotFound):
        instance_purge(instance=instance)
