"""The engine's per-step statements (processes.rows) write what the ORM would have written."""

import threading
import uuid
from datetime import timedelta
from functools import partial

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from processes.models import Event, Job, ProcessInstance, Token
from processes.rows import (
    MAX_PARAMS,
    row_get,
    row_insert,
    row_lock,
    row_save,
    rows_insert,
    rows_update,
)
from processes.services import instance_start
from processes.statuses import JobStatus, TokenStatus
from tests.support.definitions import publish, service_step


@pytest.fixture
def instance(db):
    publish("rows", [service_step("a", "test.mark")])
    return instance_start(definition_key="rows", variables={})


def test_row_insert__sets_the_key_and_stores_every_field_as_the_orm_reads_it(instance):
    token = Token(instance=instance, node_id="x", status=TokenStatus.ACTIVE, arrived_from="a")
    row_insert(token)
    lease = uuid.uuid4()
    job = Job(
        instance=instance,
        token=token,
        step_id="x",
        service="test.mark",
        input={"nested": {"list": [1, 2.5, None, "ü"]}},
        timeout_seconds=12.5,
        lease_token=lease,
    )
    row_insert(job)

    assert token.pk is not None and not token._state.adding
    stored = Job.objects.get(pk=job.pk)
    assert stored.token_id == token.pk
    assert stored.input == {"nested": {"list": [1, 2.5, None, "ü"]}}
    assert stored.lease_token == lease
    assert stored.timeout_seconds == 12.5
    assert stored.status == JobStatus.SCHEDULED
    assert stored.due_at == job.due_at


def test_rows_insert__writes_more_rows_than_one_statement_holds_in_their_order(instance):
    before = Event.objects.filter(instance=instance).count()
    count = MAX_PARAMS // 6 + 7  # an event binds 6 values
    events = [
        Event(instance=instance, type="TASK_COMPLETED", step_id=f"s{n}", payload={"n": n})
        for n in range(count)
    ]
    rows_insert(events)
    stored = list(Event.objects.filter(instance=instance).order_by("id")[before:])
    assert [event.payload["n"] for event in stored] == list(range(count))
    assert stored[-1].step_id == f"s{count - 1}"


def test_rows_update__is_a_compare_and_set(instance):
    job = Job.objects.get(instance=instance)
    lease = uuid.uuid4()
    values = {"status": JobStatus.SUCCEEDED, "result": {"ok": True}, "lease_token": None}

    assert rows_update(Job, values, pk=job.pk, status=JobStatus.RUNNING, lease_token=lease) == 0
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, lease_token=lease)
    assert rows_update(Job, values, pk=job.pk, status=JobStatus.RUNNING, lease_token=lease) == 1
    assert rows_update(Job, values, pk=job.pk, status=JobStatus.RUNNING, lease_token=lease) == 0

    stored = Job.objects.get(pk=job.pk)
    assert (stored.status, stored.result, stored.lease_token) == ("succeeded", {"ok": True}, None)


def test_rows_insert__refuses_a_model_whose_key_it_cannot_return():
    from processes.models import WorkerHeartbeat  # its key is the hostname, not a sequence

    with pytest.raises(TypeError, match="auto-increment key"):
        rows_insert([WorkerHeartbeat(hostname="w1")])


@pytest.mark.django_db(transaction=True)
def test_row_lock__outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError):
        row_lock(ProcessInstance, "any")


def test_rows_update__refuses_a_condition_on_null():
    with pytest.raises(ValueError, match="NULL"):
        rows_update(Job, {"status": JobStatus.FAILED}, pk=1, lease_token=None)


def test_row_save__writes_only_the_named_fields_and_touches_auto_now(instance):
    earlier = timezone.now() - timedelta(days=1)
    ProcessInstance.objects.filter(pk=instance.pk).update(updated_at=earlier, business_key="kept")
    instance.variables = {"amount": 12}
    instance.business_key = "not saved"
    row_save(instance, ("variables", "updated_at"))

    stored = ProcessInstance.objects.get(pk=instance.pk)
    assert stored.variables == {"amount": 12}
    assert stored.business_key == "kept"
    assert stored.updated_at > earlier


def _while_locked_elsewhere(instance_id: str, probe):
    """Run `probe` in this thread while another connection holds the instance's row lock."""
    locked, probed = threading.Event(), threading.Event()

    def other_transaction():
        try:
            with transaction.atomic():
                row_lock(ProcessInstance, instance_id)
                locked.set()
                probed.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    locked.wait(10)
    try:
        with transaction.atomic():
            return probe()
    finally:
        probed.set()
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_row_lock__holds_the_row_until_the_transaction_ends():
    publish("rows", [service_step("a", "test.mark")])
    instance = instance_start(definition_key="rows", variables={})

    def try_without_waiting():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM processes_processinstance WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                [instance.pk],
            )

    with pytest.raises(OperationalError, match="could not obtain lock"):
        _while_locked_elsewhere(instance.pk, try_without_waiting)
    with transaction.atomic():
        row = row_lock(ProcessInstance, instance.pk)
    assert row is not None and row.status == "running" and row.variables == {}


@pytest.mark.django_db(transaction=True)
def test_row_lock__skip_locked_passes_over_a_row_another_transaction_holds():
    publish("rows", [service_step("a", "test.mark")])
    instance = instance_start(definition_key="rows", variables={})
    probe = partial(row_lock, ProcessInstance, instance.pk, skip_locked=True)
    assert _while_locked_elsewhere(instance.pk, probe) is None
    with transaction.atomic():
        assert probe().pk == instance.pk


@pytest.mark.django_db(transaction=True)
def test_row_get__reads_without_locking():
    publish("rows", [service_step("a", "test.mark")])
    instance = instance_start(definition_key="rows", variables={})
    row = _while_locked_elsewhere(instance.pk, partial(row_get, ProcessInstance, instance.pk))
    assert row.pk == instance.pk and row.business_key == instance.business_key
    assert row_get(ProcessInstance, "no-such-instance") is None


def test_row_lock__of_an_unknown_key_is_none(db):
    with transaction.atomic():
        assert row_lock(ProcessInstance, "no-such-instance") is None
