"""Eight threads send the same message to one waiting step at once: it is consumed exactly
once; the others are refused (no ttl) or buffered (with one), never delivered twice.
Real PostgreSQL connections, one per thread."""

import threading

import pytest
from django.db import connection

from processes.errors import NotFound
from processes.models import Event, Message
from processes.services import instance_start, message_correlate
from processes.statuses import InstanceStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

THREADS = 8


def race(send) -> list:
    barrier = threading.Barrier(THREADS)
    outcomes: list = []

    def sender(number: int) -> None:
        try:
            barrier.wait()
            outcomes.append(send(number))
        except NotFound as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def waiting_instance():
    publish(
        "order",
        [
            {
                "id": "wait",
                "type": "message_catch",
                "config": {"message": "paid", "correlation_key": "${id}"},
                "next": ["ship"],
            },
            service_step("ship", "test.mark", next=["end"]),
            {"id": "end", "type": "end"},
        ],
    )
    return instance_start(definition_key="order", variables={"id": "A"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ttl", [None, 60])
def test_eight_senders__one_message_consumed_once(ttl):
    instance = waiting_instance()
    outcomes = race(
        lambda n: message_correlate(
            name="paid", correlation_key="A", variables={"sender": n}, ttl_seconds=ttl
        )
    )
    delivered = [o for o in outcomes if not isinstance(o, Exception) and o.outcome == "delivered"]
    assert len(delivered) == 1
    others = [o for o in outcomes if o not in delivered]
    if ttl is None:
        assert all(isinstance(o, NotFound) for o in others)
        assert Message.objects.count() == 0
    else:
        assert [o.outcome for o in others] == ["buffered"] * (THREADS - 1)
        assert Message.objects.filter(status="buffered").count() == THREADS - 1
    assert Event.objects.filter(instance=instance, type="MESSAGE_RECEIVED").count() == 1
    run_due_jobs()
    assert fresh(instance).status == InstanceStatus.COMPLETED
