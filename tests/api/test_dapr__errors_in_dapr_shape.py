"""Every refusal of the Dapr routes is Dapr's `{"errorCode", "message"}` with Dapr's code.

Bad input is a 400 and starts nothing: an unknown component, an instance id Dapr refuses,
a body that is not a JSON object, one too large. Unknown instances are Dapr's
ERR_INSTANCE_ID_NOT_FOUND on every route.
"""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from processes.models import ProcessInstance

pytestmark = pytest.mark.django_db

BASE = "/v1.0/workflows"


def post(client: APIClient, path: str, body: str | None = None):
    if body is None:
        return client.post(f"{BASE}/{path}")
    return client.post(f"{BASE}/{path}", data=body, content_type="application/json")


@pytest.fixture
def maria(api):
    return api("maria")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "approval/start"),
        ("get", "some-id"),
        ("post", "some-id/terminate"),
        ("post", "some-id/pause"),
        ("post", "some-id/resume"),
        ("post", "some-id/purge"),
        ("post", "some-id/raiseEvent/paid"),
    ],
)
def test_dapr__an_unknown_component_is_dapr_component_not_found(maria, approval, method, path):
    answer = getattr(maria, method)(f"{BASE}/dapr/{path}")
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "ERR_WORKFLOW_COMPONENT_NOT_FOUND",
        "message": "workflow component 'dapr' does not exist",
    }


def test_dapr__the_component_is_the_setting(maria, approval, settings):
    settings.FLOWDESK_DAPR_COMPONENT = "bpm"
    assert post(maria, "bpm/approval/start?instanceID=via-bpm", "{}").status_code == 202
    assert post(maria, "flowdesk/approval/start", "{}").status_code == 400


def test_dapr__start_refuses_the_instance_ids_dapr_refuses(maria, approval):
    too_long = post(maria, f"flowdesk/approval/start?instanceID={'x' * 65}", "{}")
    assert too_long.status_code == 400
    assert too_long.json() == {
        "errorCode": "ERR_INSTANCE_ID_TOO_LONG",
        "message": "workflow instance ID exceeds the max length of 64 characters",
    }
    invalid = post(maria, "flowdesk/approval/start?instanceID=bad$id", "{}")
    assert invalid.status_code == 400
    assert invalid.json() == {
        "errorCode": "ERR_INSTANCE_ID_INVALID",
        "message": "workflow instance ID 'bad$id' is invalid: only alphanumeric and underscore "
        "characters are allowed",
    }
    assert not ProcessInstance.objects.exists()
    # Flowdesk's own ids may hold dots; an empty instanceID is none (a new id is made).
    assert post(maria, "flowdesk/approval/start?instanceID=A.1_b-2", "{}").status_code == 202
    made = post(maria, "flowdesk/approval/start?instanceID=", "{}").json()["instanceID"]
    assert uuid.UUID(made)
    assert set(ProcessInstance.objects.values_list("pk", flat=True)) == {"A.1_b-2", made}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "the body is not JSON"),
        ("[1, 2]", "the body must be a JSON object of variables, not list"),
        ('"text"', "the body must be a JSON object of variables, not str"),
        ('{"note": "a\\u0000b"}', "note"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, ""),
    ],
)
def test_dapr__a_body_that_is_not_a_json_object_is_malformed(maria, approval, body, reason):
    for path in ("flowdesk/approval/start", "flowdesk/any-id/raiseEvent/paid"):
        answer = post(maria, path, body)
        assert answer.status_code == 400, answer.content
        assert answer.json()["errorCode"] == "ERR_MALFORMED_REQUEST"
        assert answer.json()["message"].startswith("failed deserializing HTTP body: ")
        assert reason in answer.json()["message"]
    assert not ProcessInstance.objects.exists()


def test_dapr__an_empty_or_null_body_is_no_input(maria, approval):
    assert post(maria, "flowdesk/approval/start?instanceID=empty").status_code == 202
    assert post(maria, "flowdesk/approval/start?instanceID=null", "null").status_code == 202
    assert ProcessInstance.objects.get(pk="empty").variables == {}


def test_dapr__a_body_over_the_limit_is_dapr_body_read(maria, approval, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = post(maria, "flowdesk/approval/start", '{"note": "%s"}' % ("x" * 2000))
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "ERR_BODY_READ",
        "message": "failed to read request body: it is larger than the 1,000 bytes accepted",
    }
    assert not ProcessInstance.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "nope"),
        ("post", "nope/terminate"),
        ("post", "nope/pause"),
        ("post", "nope/resume"),
        ("post", "nope/purge"),
        ("post", "nope/raiseEvent/paid"),
        ("get", "bad$id"),
    ],
)
def test_dapr__an_unknown_instance_is_dapr_instance_not_found(maria, method, path):
    answer = getattr(maria, method)(f"{BASE}/flowdesk/{path}")
    assert answer.status_code == 404
    instance_id = path.split("/")[0]
    # The exact body of dapr/dapr's tests/integration/suite/daprd/workflow/getnotfound.go.
    assert answer.json() == {
        "errorCode": "ERR_INSTANCE_ID_NOT_FOUND",
        "message": f"unable to find workflow with the provided instance ID: {instance_id}",
    }


def test_dapr__an_unknown_workflow_name_is_a_refused_start(maria):
    answer = post(maria, "flowdesk/no-such-process/start", "{}")
    assert answer.status_code == 404
    assert answer.json() == {
        "errorCode": "ERR_START_WORKFLOW",
        "message": "error starting workflow 'no-such-process': no process definition "
        "'no-such-process'",
    }


def test_dapr__variables_the_definition_refuses_are_a_400_start_error(maria, approval):
    answer = post(maria, "flowdesk/approval/start", '{"amount": "lots"}')
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "ERR_START_WORKFLOW"
    assert "amount" in answer.json()["message"]
    assert not ProcessInstance.objects.exists()


def test_dapr__without_credentials_the_answer_is_401_in_dapr_shape(approval):
    answer = APIClient().post(f"{BASE}/flowdesk/approval/start")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["errorCode"] == "ERR_UNAUTHORIZED"
    assert not ProcessInstance.objects.exists()
    # The component is checked after the caller: an anonymous one learns nothing.
    assert APIClient().get(f"{BASE}/other/some-id").status_code == 401


def test_dapr__a_session_post_needs_the_csrf_token_as_in_the_api(people, approval):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people["maria"])
    answer = client.post(f"{BASE}/flowdesk/approval/start")
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "ERR_PERMISSION_DENIED"
    assert "CSRF" in answer.json()["message"]
    assert not ProcessInstance.objects.exists()


def test_dapr__a_wrong_method_is_405_in_dapr_shape(maria):
    answer = maria.get(f"{BASE}/flowdesk/approval/start")
    assert answer.status_code == 405
    assert answer.json()["errorCode"] == "ERR_METHOD_NOT_ALLOWED"
