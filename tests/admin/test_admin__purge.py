"""The admin's bulk purge: a confirmation page lists the selected instances; confirming
purges each finished one through instance_purge (a selected child goes with its selected
parent), refuses the others with the reason, and only managers and admins are offered it."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from processes.models import ProcessInstance
from processes.services import instance_start
from processes.statuses import InstanceStatus
from tests.admin.test_admin__instances_jobs import INSTANCES, messages_of
from tests.processes.purge_world import OWNED, publish_rich, rows_of, run_rich, tree_of
from tests.support.definitions import publish, service_step
from tests.support.engine import run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(people) -> Client:
    client = Client()
    client.force_login(people["boss"])  # a manager with staff access
    return client


def select(instances, **more) -> dict:
    return {"action": "purge_selected", "_selected_action": [i.pk for i in instances], **more}


def test_purge__confirmed_finished_ones_go_and_a_running_one_is_refused(operator):
    publish_rich()
    done = run_rich(order="A-1")
    child = ProcessInstance.objects.get(parent=done)
    tree = tree_of(done)
    publish("quick", [service_step("work", "test.noop")])
    quick = instance_start(definition_key="quick")
    run_due_jobs()
    running = instance_start(definition_key="rich", variables={"xs": [1], "order": "B-2"})
    chosen = [done, child, quick, running]

    page = operator.post(INSTANCES, select(chosen))

    assert page.status_code == 200
    text = page.content.decode()
    assert "cannot be undone" in text and all(i.pk in text for i in chosen)
    assert ProcessInstance.objects.filter(pk__in=[i.pk for i in chosen]).count() == 4

    said = messages_of(operator.post(INSTANCES, select(chosen, post="yes"), follow=True))

    assert said == [
        "Purged: 2 of 3.",
        f"1 refused. {running.pk}: cannot purge an instance that is running: only a finished one.",
    ]
    assert rows_of([*tree, quick.pk]) == dict.fromkeys(OWNED, 0)
    assert ProcessInstance.objects.get(pk=running.pk).status == InstanceStatus.RUNNING


def test_purge__not_offered_to_staff_who_may_not_control_instances(people):
    viewer = people["clerk"]
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_processinstance"))
    client = Client()
    client.force_login(viewer)

    page = client.get(INSTANCES)

    assert page.status_code == 200
    assert "purge_selected" not in page.content.decode()
