"""Review of issue 13: a `{"secret": NAME}` header value never leaks into errors, history or
another origin, and no variable chooses which secret is sent."""

import json
import uuid

import pytest
from django.db import connection
from django.test import override_settings

from processes.services import instance_start
from tests.support.definitions import publish
from tests.support.engine import fresh, run_due_jobs
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

SECRET = f"s3cr3t-{uuid.uuid4().hex}"
OTHER = f"other-{uuid.uuid4().hex}"


def every_row_as_text() -> str:
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            texts.extend(row for (row,) in cursor.fetchall())
    return "\n".join(texts)


def steps(url: str, headers: dict) -> list[dict]:
    return [
        {
            "id": "call",
            "type": "http",
            "config": {"url": url, "headers": headers},
            "next": ["done"],
        },
        {"id": "done", "type": "end"},
    ]


def test_a_secret_with_a_line_break_fails_the_step_without_showing_it(monkeypatch):
    """A secret read from a file/k8s secret often ends with '\n': h11 refuses the header and
    its LocalProtocolError message quotes the whole value, which becomes the step's error
    message (history, instance.error, logs)."""
    monkeypatch.setenv("FLOWDESK_SECRET_ORDERS_TOKEN", SECRET + "\n")
    with override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=True), Receiver() as receiver:
        publish(
            "nl-secret", steps(receiver.url("/x"), {"Authorization": {"secret": "ORDERS_TOKEN"}})
        )
        instance = instance_start(definition_key="nl-secret")
        run_due_jobs()
    instance = fresh(instance)
    assert instance.status == "failed"

    assert SECRET not in json.dumps(instance.error)
    assert SECRET not in every_row_as_text()


def test_a_variable_cannot_choose_which_secret_is_sent(monkeypatch):
    """`x-literal` is enforced at publish only: a header written as "${trace}" renders to
    whatever the variable holds, and a variable {"secret": "OTHER_TOKEN"} passes the rendered
    check and makes the worker send FLOWDESK_SECRET_OTHER_TOKEN: instance data chooses which
    server secret is sent."""
    monkeypatch.setenv("FLOWDESK_SECRET_OTHER_TOKEN", OTHER)
    with override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=True), Receiver() as receiver:
        publish("tmpl-secret", steps(receiver.url("/x"), {"X-Trace": "${trace}"}))
        instance_start(definition_key="tmpl-secret", variables={"trace": {"secret": "OTHER_TOKEN"}})
        run_due_jobs()
    sent = [r.headers.get("x-trace") for r in receiver.requests]
    assert OTHER not in sent, sent


def test_a_secret_header_does_not_follow_a_redirect_to_another_origin(monkeypatch):
    """Only Authorization and Cookie are dropped on a cross-origin hop: a secret in any other
    header (X-Api-Key, the usual place) is sent to whatever host the target redirects to."""
    monkeypatch.setenv("FLOWDESK_SECRET_ORDERS_TOKEN", SECRET)
    with override_settings(FLOWDESK_ALLOW_PRIVATE_TARGETS=True), Receiver() as other:
        with Receiver(default=Reply(302, b"", {"Location": other.url("/steal")})) as target:
            publish("redir", steps(target.url("/x"), {"X-Api-Key": {"secret": "ORDERS_TOKEN"}}))
            instance_start(definition_key="redir")
            run_due_jobs()
    assert [r.headers.get("x-api-key") for r in target.requests] == [SECRET]
    assert [r.headers.get("x-api-key") for r in other.requests] == [None]
