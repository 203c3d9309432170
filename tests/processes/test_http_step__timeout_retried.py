"""An `http` step whose target does not answer within its `timeout` fails the attempt with
States.Timeout, as a service step's timeout does, and its retry policy sends it again."""

import json

import pytest

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh
from tests.support.receiver import Receiver, Reply
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def http_worker(workers, monkeypatch):
    monkeypatch.setenv("FLOWDESK_ALLOW_PRIVATE_TARGETS", "1")
    workers.start("http-timeout", concurrency=1, beat=True)
    return workers


def test_http_step__timeout_is_retried(http_worker):
    answer = Reply(200, json.dumps({"ok": True}).encode(), {"Content-Type": "application/json"})
    with Receiver([Reply(hang=True)], default=answer) as receiver:
        publish(
            "slow-api",
            [
                {
                    "id": "call",
                    "type": "http",
                    "config": {
                        "url": receiver.url("/slow"),
                        "timeout": "1s",
                        "result": "answer",
                        "retry_policy": {
                            "max_attempts": 2,
                            "interval": "0s",
                            "errors": ["States.Timeout"],
                        },
                    },
                    "next": ["done"],
                },
                {"id": "done", "type": "end"},
            ],
        )
        instance = instance_start(definition_key="slow-api")
        wait_for(lambda: fresh(instance).status == "completed", timeout=60, what="the retry")
    instance = fresh(instance)
    assert instance.variables["answer"]["body"] == {"ok": True}
    assert len(receiver.requests) == 2
    retried = instance.events.filter(type="TASK_RETRIED").get()
    assert retried.payload["error"] == "States.Timeout"
    assert retried.payload["attempt"] == 2
