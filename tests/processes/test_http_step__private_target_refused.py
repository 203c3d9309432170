"""Without FLOWDESK_ALLOW_PRIVATE_TARGETS the guarded client refuses a 127.0.0.1 target:
the attempt fails with HttpRefused and nothing reaches the server."""

import pytest
from django.test import override_settings

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh, run_due_jobs
from tests.support.receiver import Receiver

pytestmark = pytest.mark.django_db


@override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=False)
def test_http_step__loopback_target_is_refused():
    with Receiver() as receiver:
        publish(
            "internal",
            [{"id": "call", "type": "http", "config": {"url": receiver.url("/admin")}}],
        )
        instance = instance_start(definition_key="internal")
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"
    assert instance.error["error"] == "HttpRefused"
    assert "127.0.0.1" in instance.error["message"]
    assert receiver.requests == []
