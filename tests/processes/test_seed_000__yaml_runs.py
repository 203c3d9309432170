"""The seed 000 YAML definition runs to completion on a real worker."""

import pytest

from processes.services import definition_publish, instance_start
from tests.support.engine import event_types, fresh
from tests.support.seeds import SEED_000_YAML
from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def test_seed_000__runs_to_completed_on_a_worker(worker):
    definition_publish(source=SEED_000_YAML, format="yaml")
    instance = instance_start(
        definition_key="order-processing-workflow",
        variables={"order_id": "ORDER-001", "amount": 999.99},
        business_key="ORDER-001",
    )
    wait_for(lambda: fresh(instance).status == "completed", what="the seed 000 instance")
    instance = fresh(instance)
    assert instance.variables["valid"] is True
    assert instance.variables["payment_id"] == "PAY-ORDER-001"
    completed = [e for e in instance.events.all() if e.type == "TASK_COMPLETED"]
    assert [e.step_id for e in completed] == ["validate_order", "check_inventory", "create_payment"]
    assert event_types(instance)[-1] == "WORKFLOW_COMPLETED"
