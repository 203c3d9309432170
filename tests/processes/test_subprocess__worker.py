"""On real workers: a three-level chain of subprocesses whose leaves run service steps
completes with each level's output merged into its caller, and a failing grandchild's
error name reaches the top's catch."""

from __future__ import annotations

import pytest

from processes.models import ProcessInstance
from processes.services import instance_start
from tests.processes.test_subprocess__call import call, end
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh
from tests.support.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker__three_levels_complete_and_merge_their_outputs(worker):
    publish("leaf", [service_step("work", "test.echo", input={"got": "${n}"})])
    publish("middle", [call("leaf", "leaf", input={"n": "${n}"}, output={"leaf": "${got}"})])
    publish(
        "top",
        [
            call("middle", "middle", input={"n": 5}, output={"answer": "${leaf}"}, next=["after"]),
            service_step("after", "test.echo", input={"after": "${answer}"}),
        ],
    )
    top = instance_start(definition_key="top")
    wait_for(lambda: fresh(top).status == "completed", what="the top instance completes")
    assert fresh(top).variables == {"answer": 5, "after": 5}
    assert ProcessInstance.objects.filter(depth=2, status="completed").count() == 1


def test_worker__a_grandchilds_fail_error_is_caught_at_the_top(worker):
    publish("leaf", [{"id": "no", "type": "fail", "config": {"error": "CreditDenied"}}])
    publish("middle", [call("leaf", "leaf")])
    publish(
        "top",
        [
            call(
                "middle",
                "middle",
                catch=[{"error_equals": ["CreditDenied"], "next": "refused"}],
                next=["done"],
            ),
            end("done"),
            service_step("refused", "test.noop"),
        ],
    )
    top = instance_start(definition_key="top")
    wait_for(lambda: fresh(top).status == "completed", what="the top instance completes")
    assert fresh(top).variables["last_error"]["error"] == "CreditDenied"
