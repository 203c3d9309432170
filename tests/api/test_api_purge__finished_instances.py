"""POST /api/v1/process-instances/{id}/purge: a manager or admin deletes a finished instance
(200 with how many went); a running one is 409; someone who sees it but may not purge gets
403, someone who may not see it 404, and neither changes anything."""

import pytest

from processes.models import Event, ProcessInstance
from tests.processes.purge_world import OWNED, rows_of

INSTANCES = "/api/v1/process-instances"

pytestmark = pytest.mark.django_db


def start(client, amount: int) -> dict:
    body = {"process_definition_key": "approval", "variables": {"amount": amount}}
    answer = client.post(INSTANCES, body, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def purge(client, instance_id: str):
    return client.post(f"{INSTANCES}/{instance_id}/purge")


@pytest.mark.parametrize("who", ["maria", "root"])
def test_purge__a_manager_or_admin_deletes_a_completed_instance(api, approval, who):
    done = start(api("ann"), amount=10)  # the gateway's default: straight to the end
    assert done["status"] == "completed"

    answer = purge(api(who), done["id"])

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"id": done["id"], "purged": 1}
    assert rows_of([done["id"]]) == dict.fromkeys(OWNED, 0)
    assert api(who).get(f"{INSTANCES}/{done['id']}").status_code == 404
    assert purge(api(who), done["id"]).status_code == 404


def test_purge__a_running_instance_is_409_and_keeps_everything(api, approval):
    running = start(api("ann"), amount=5000)  # waits for an approver
    events = Event.objects.filter(instance_id=running["id"]).count()

    answer = purge(api("maria"), running["id"])

    assert answer.status_code == 409
    assert "running" in answer.json()["detail"]
    assert ProcessInstance.objects.get(pk=running["id"]).status == "running"
    assert Event.objects.filter(instance_id=running["id"]).count() == events


def test_purge__who_sees_it_but_may_not_purge_gets_403(api, approval):
    done = start(api("ann"), amount=10)

    answer = purge(api("ann"), done["id"])  # her own instance: she sees it

    assert answer.status_code == 403
    assert "only managers and admins" in answer.json()["detail"]
    assert ProcessInstance.objects.filter(pk=done["id"]).exists()


@pytest.mark.parametrize("instance_id", ["theirs", "no-such-instance", "x" * 200])
def test_purge__who_may_not_see_it_gets_404(api, approval, instance_id):
    done = start(api("ann"), amount=10)
    target = done["id"] if instance_id == "theirs" else instance_id

    answer = purge(api("eve"), target)

    assert answer.status_code == 404
    assert ProcessInstance.objects.filter(pk=done["id"]).exists()


def test_purge__needs_a_login(client, approval, api):
    done = start(api("ann"), amount=10)
    assert client.post(f"{INSTANCES}/{done['id']}/purge").status_code == 401
    assert ProcessInstance.objects.filter(pk=done["id"]).exists()
