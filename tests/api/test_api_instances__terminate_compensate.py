"""DELETE /api/v1/process-instances/{id}?compensate=true: undo, then cancel."""

from processes.services import instance_start
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

INSTANCES = "/api/v1/process-instances"


def publish_order() -> None:
    undo = {"service_name": "test", "method": "echo", "input": {"refunded": True}}
    publish(
        "order",
        [
            service_step("charge", "test.mark", compensation=undo, next=["approve"]),
            {"id": "approve", "type": "user_task", "config": {"assignee": "bob"}},
        ],
    )


def test_delete_with_compensate__runs_the_undo_then_cancels(api):
    publish_order()
    instance = instance_start(definition_key="order")
    run_due_jobs()

    response = api("maria").delete(f"{INSTANCES}/{instance.pk}?compensate=true")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["open_tasks"]) == ("running", [])
    run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "cancelled"
    assert list(instance.events.filter(type="STEP_COMPENSATED").values_list("step_id", flat=True))
    assert instance.variables["refunded"] is True


def test_delete_without_compensate__cancels_at_once_and_undoes_nothing(api):
    publish_order()
    instance = instance_start(definition_key="order")
    run_due_jobs()
    response = api("maria").delete(f"{INSTANCES}/{instance.pk}?compensate=false")
    assert response.json()["status"] == "cancelled"
    assert not fresh(instance).events.filter(type="COMPENSATION_STARTED").exists()


def test_delete_with_a_bad_compensate__is_a_400_naming_it(api):
    publish_order()
    instance = instance_start(definition_key="order")
    response = api("maria").delete(f"{INSTANCES}/{instance.pk}?compensate=maybe")
    assert response.status_code == 400
    assert "compensate" in response.content.decode()
    assert fresh(instance).status == "running"
