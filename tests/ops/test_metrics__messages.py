"""`workflow_messages_total{outcome}` counts what became of each message sent."""

import pytest

from processes.errors import NotFound
from processes.services import instance_start, message_correlate
from tests.ops.test_metrics__prometheus import scrape, value
from tests.support.definitions import publish

OUTCOMES = ("delivered", "buffered", "refused")


@pytest.mark.django_db
def test_metrics__messages_by_outcome(client):
    publish(
        "paying",
        [
            {
                "id": "wait",
                "type": "message_catch",
                "config": {"message": "paid", "correlation_key": "${n}"},
                "next": ["end"],
            },
            {"id": "end", "type": "end"},
        ],
    )
    instance_start(definition_key="paying", variables={"n": 1})
    before = scrape(client)
    message_correlate(name="paid", correlation_key=1)
    message_correlate(name="paid", correlation_key=2, ttl_seconds=60)
    with pytest.raises(NotFound):
        message_correlate(name="paid", correlation_key=3)
    after = scrape(client)
    for outcome in OUTCOMES:
        moved = value(after, "workflow_messages_total", outcome=outcome) - value(
            before, "workflow_messages_total", outcome=outcome
        )
        assert moved == 1, outcome
