"""A step that outlives its timeout fails its attempt with States.Timeout, which `catch` matches."""

import json

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_timeout__is_caught_as_states_timeout(worker):
    definition = {
        "name": "too-slow",
        "steps": [
            {
                "id": "slow",
                "type": "service_task",
                "config": {
                    "service_name": "test.slow",
                    "input": {"seconds": 30},
                    "timeout": "1s",
                    "catch": [{"error_equals": ["States.Timeout"], "next": "fallback"}],
                },
                "next": ["end"],
            },
            {"id": "fallback", "type": "service_task", "config": {"service_name": "test.mark"}},
            {"id": "end", "type": "end"},
        ],
    }
    definition_publish(source=json.dumps(definition), format="json")
    instance = instance_start(definition_key="too-slow")
    wait_for(lambda: fresh(instance).status == "completed", timeout=30, what="the fallback")
    instance = fresh(instance)
    assert instance.variables["last_error"]["error"] == "States.Timeout"
    assert instance.variables["ran_fallback"] is True
    assert "slow_done" not in instance.variables
