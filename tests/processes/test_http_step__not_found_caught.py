"""A status outside `expect_status` fails the attempt with HttpError.<status>: a catch on
`HttpError` matches every one of them, a catch on `HttpError.404` only that one."""

import pytest
from django.test import override_settings

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import event_types, fresh, run_due_jobs
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db


def lookup(url: str, catch: list[str]) -> list[dict]:
    return [
        {
            "id": "lookup",
            "type": "http",
            "config": {
                "url": url,
                "expect_status": [200],
                "result": "customer",
                "catch": [{"error_equals": catch, "next": "not_found"}],
            },
            "next": ["done"],
        },
        {"id": "not_found", "type": "service_task", "config": {"service_name": "test.mark"}},
        {"id": "done", "type": "end"},
    ]


@override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=True)
def test_http_step__404_is_caught_by_httperror():
    with Receiver(default=Reply(404, b"no such customer")) as receiver:
        publish("lookup", lookup(receiver.url("/customers/${customer_id}"), ["HttpError"]))
        instance = instance_start(definition_key="lookup", variables={"customer_id": "c9"})
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "completed"
    assert instance.variables["ran_not_found"] is True
    assert "customer" not in instance.variables
    error = instance.variables["last_error"]
    assert (error["step"], error["error"]) == ("lookup", "HttpError.404")
    assert "answered 404: no such customer" in error["message"]
    assert event_types(instance, "lookup") == ["TASK_SCHEDULED", "TASK_FAILED"]
    assert [r.path for r in receiver.requests] == ["/customers/c9"]


@override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=True)
def test_http_step__other_status_is_not_caught_by_another_members_rule():
    with Receiver(default=Reply(503, b"down")) as receiver:
        publish("lookup", lookup(receiver.url("/customers/c1"), ["HttpError.404"]))
        instance = instance_start(definition_key="lookup")
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "HttpError.503"
    assert "ran_not_found" not in instance.variables
