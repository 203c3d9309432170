"""An `http` step sends its rendered request through the guarded client and puts the
answer in its `result` variable: status, headers and the body, parsed when it is JSON."""

import json

import pytest
from django.test import override_settings

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.receiver import Receiver, Reply

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("private_targets"),
]

ORDER = {"id": "A-7", "state": "accepted", "lines": [1, 2]}


@pytest.fixture
def private_targets():
    with override_settings(
        FLOWDESK_ALLOW_PRIVATE_TARGETS=True,
        FLOWDESK_SECRET_ORDERS_TOKEN="tok-success",  # noqa: S106 - a test's stand-in
    ):
        yield


def call_step(url: str, *, next: str = "done", **config) -> dict:
    return {"id": "call", "type": "http", "config": {"url": url, **config}, "next": [next]}


def test_http_step__json_answer_lands_in_result():
    with Receiver(
        default=Reply(201, json.dumps(ORDER).encode(), {"Content-Type": "application/json"})
    ) as receiver:
        publish(
            "orders",
            [
                call_step(
                    receiver.url("/orders/${order_id}"),
                    method="POST",
                    headers={"Authorization": {"secret": "ORDERS_TOKEN"}, "X-Case": "${case}"},
                    body={"id": "${order_id}", "amount": "${amount}"},
                    timeout="5s",
                    expect_status=[200, 201],
                    result="order_api",
                ),
                {"id": "done", "type": "end"},
            ],
        )
        instance = instance_start(
            definition_key="orders", variables={"order_id": "A-7", "case": "c-1", "amount": 12}
        )
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    result = instance.variables["order_api"]
    assert result["status"] == 201
    assert result["body"] == ORDER
    assert result["headers"]["content-type"] == "application/json"
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/orders/A-7")
    assert request.headers["authorization"] == "tok-success"
    assert request.headers["x-case"] == "c-1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"id": "A-7", "amount": 12}
    assert event_types(instance, "call") == ["TASK_SCHEDULED", "TASK_COMPLETED"]


def test_http_step__text_answer_stays_text_and_no_result_stores_nothing():
    with Receiver(default=Reply(200, b"pong", {"Content-Type": "text/plain"})) as receiver:
        publish(
            "pinger",
            [
                call_step(receiver.url("/ping"), next="again", result="ping"),
                {
                    "id": "again",
                    "type": "http",
                    "config": {"url": receiver.url("/ping")},
                    "next": ["done"],
                },
                {"id": "done", "type": "end"},
            ],
        )
        instance = instance_start(definition_key="pinger")
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables == {"ping": {**instance.variables["ping"], "body": "pong"}}
    assert instance.variables["ping"]["status"] == 200
    assert [r.method for r in receiver.requests] == ["GET", "GET"]
