"""`instance_change`: one locked unit of work on an instance, finished when the block ends
normally (its events saved), rolled back whole on an exception, writing nothing when it
changed nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.models import Event
from processes.services import instance_start
from processes.services.advance import instance_change
from processes.statuses import EventType
from tests.support.definitions import publish, service_step
from tests.support.engine import event_types, fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance():
    publish("one-step", [service_step("a", "test.noop")], variables={"note": "string"})
    return instance_start(definition_key="one-step")


def test_change__saved_when_the_block_ends(instance):
    with instance_change(instance.pk) as change:
        change.instance.suspend()
        change.log.add(EventType.WORKFLOW_SUSPENDED)
    assert fresh(instance).status == "suspended"
    assert event_types(instance)[-1] == "WORKFLOW_SUSPENDED"


def test_change__nothing_saved_when_the_block_raises(instance):
    events = Event.objects.filter(instance=instance).count()
    with pytest.raises(RuntimeError), instance_change(instance.pk) as change:
        change.instance.suspend()
        change.instance.variables = {"note": "lost"}
        change.log.add(EventType.WORKFLOW_SUSPENDED)
        raise RuntimeError("the service changed its mind")
    assert (fresh(instance).status, fresh(instance).variables) == ("running", {})
    assert Event.objects.filter(instance=instance).count() == events


def test_change__that_did_nothing_writes_nothing(instance):
    with CaptureQueriesContext(connection) as queries, instance_change(instance.pk):
        pass
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert writes == []
