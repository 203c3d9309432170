"""A header value ``{"secret": "NAME"}`` sends the server's FLOWDESK_SECRET_NAME, read by
the worker right before the request: the value is in no table (job input, history, variables,
anything else), no API answer, no admin or instance page, no worker log and no log line of
this process, on the success path and on the failure path alike."""

import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from processes.models import Job
from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh
from tests.support.receiver import Receiver, Reply
from tests.support.workers import LOG_DIR, wait_for

pytestmark = pytest.mark.worker

SECRET = f"s3cr3t-{uuid.uuid4().hex}"
WORKER = f"http-secret-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def http_worker(workers, monkeypatch):
    monkeypatch.setenv("FLOWDESK_ALLOW_PRIVATE_TARGETS", "1")
    monkeypatch.setenv("FLOWDESK_SECRET_ORDERS_TOKEN", SECRET)
    workers.start(WORKER, concurrency=1, beat=True)
    return workers


def http_step(step_id: str, url: str, next_id: str, **config) -> dict:
    return {
        "id": step_id,
        "type": "http",
        "config": {
            "url": url,
            "method": "POST",
            "headers": {"Authorization": {"secret": "ORDERS_TOKEN"}, "X-Order": "${order_id}"},
            "body": {"order": "${order_id}"},
            "result": f"{step_id}_answer",
            **config,
        },
        "next": [next_id],
    }


def every_row_as_text() -> str:
    """Every row of every table of the test database, as JSON text."""
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            texts.extend(row for (row,) in cursor.fetchall())
    return "\n".join(texts)


def test_http_step__secret_header_is_sent_and_shown_nowhere(http_worker, caplog, django_user_model):
    def answer(received):
        if received.path.startswith("/fail"):
            return Reply(500, b"upstream broke")
        return Reply(200, b'{"ok": true}', {"Content-Type": "application/json"})

    with Receiver(answer=answer) as receiver:
        publish(
            "secret-call",
            [
                http_step("create", receiver.url("/orders/${order_id}"), "notify"),
                http_step(
                    "notify",
                    receiver.url("/fail/${order_id}"),
                    "done",
                    catch=[{"error_equals": ["HttpError"], "next": "done"}],
                ),
                {"id": "done", "type": "end"},
            ],
        )
        instance = instance_start(definition_key="secret-call", variables={"order_id": "o-1"})
        wait_for(lambda: fresh(instance).status == "completed", timeout=60, what="the calls")

    # It was sent, on both calls.
    assert [r.headers["authorization"] for r in receiver.requests] == [SECRET, SECRET]
    instance = fresh(instance)
    assert instance.variables["last_error"]["error"] == "HttpError.500"
    # The job keeps the marker, not the value.
    job = Job.objects.get(instance=instance, step_id="create")
    assert job.input["headers"]["Authorization"] == {"secret": "ORDERS_TOKEN"}

    assert SECRET not in every_row_as_text()

    admin = django_user_model.objects.create_superuser("root-secrets")
    api = APIClient()
    api.force_authenticate(admin)
    base = f"/api/v1/process-instances/{instance.pk}"
    for url in (
        base,
        f"{base}/history",
        "/api/v1/process-instances",
        f"/api/v1/process-definitions/{instance.definition_id}",
        f"/api/v1/process-definitions/{instance.definition_id}/versions",
    ):
        response = api.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url

    pages = Client()
    pages.force_login(admin)
    urls = [
        f"/instances/{instance.pk}/",
        "/admin/processes/job/",
        f"/admin/processes/processinstance/{instance.pk}/change/",
        *(f"/admin/processes/job/{job_id}/change/" for job_id in instance_jobs(instance)),
    ]
    for url in urls:
        response = pages.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url

    http_worker.stop_all()
    worker_log = (LOG_DIR / f"{WORKER}.log").read_text(errors="replace")
    assert "notify" in worker_log  # the failed call was logged...
    assert SECRET not in worker_log  # ...without the secret
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(instance.variables)


def instance_jobs(instance) -> list[int]:
    return list(Job.objects.filter(instance=instance).values_list("pk", flat=True))
