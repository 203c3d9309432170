"""A token records what holds it, and its status changes only through its transitions."""

import pytest
from django_fsm import TransitionNotAllowed

from processes.models import Token
from processes.services import instance_retry, instance_start, instance_terminate
from processes.statuses import TokenHolder, TokenStatus
from tests.support.definitions import publish, service_step
from tests.support.engine import fresh, run_due_jobs

pytestmark = pytest.mark.django_db


def tokens(instance) -> list[tuple[str, str, str]]:
    return list(
        Token.objects.filter(instance=instance)
        .order_by("id")
        .values_list("node_id", "holder", "status")
    )


def test_holder__job_for_a_service_step_task_for_a_user_step_join_for_a_waiting_branch():
    publish(
        "mixed",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["call", "ask"]},
            service_step("call", "test.noop", next=["join"]),
            {"id": "ask", "type": "user_task", "config": {}, "next": ["join"]},
            {"id": "join", "type": "parallel_gateway", "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="mixed")
    assert tokens(instance) == [
        ("call", TokenHolder.JOB, TokenStatus.ACTIVE),
        ("ask", TokenHolder.TASK, TokenStatus.ACTIVE),
    ]
    run_due_jobs()
    assert tokens(instance) == [
        ("call", TokenHolder.JOB, TokenStatus.DONE),
        ("ask", TokenHolder.TASK, TokenStatus.ACTIVE),
        ("join", TokenHolder.JOIN, TokenStatus.WAITING),
    ]


def test_status__cannot_be_assigned_directly():
    publish("one", [service_step("call", "test.noop")])
    token = Token.objects.get(instance=instance_start(definition_key="one"))
    with pytest.raises(AttributeError):
        token.status = TokenStatus.DONE
    token.refresh_from_db()
    assert token.status == TokenStatus.ACTIVE


def test_transitions__refuse_a_status_they_do_not_leave():
    token = Token(status=TokenStatus.DONE)
    for transition in (token.end, token.fail, token.cancel, token.reactivate):
        with pytest.raises(TransitionNotAllowed):
            transition()


def test_retry__the_failed_token_is_reactivated_and_ends_when_the_step_succeeds():
    publish(
        "fragile",
        [
            service_step("call", "test.flaky", input={"succeed_on": 2}, next=["after"]),
            service_step("after", "test.noop"),
        ],
    )
    instance = instance_start(definition_key="fragile")
    run_due_jobs()
    failed = Token.objects.get(instance=instance)
    assert (failed.status, failed.holder) == (TokenStatus.FAILED, TokenHolder.JOB)
    assert failed.ended_at is not None

    instance_retry(instance=fresh(instance))
    failed.refresh_from_db()
    assert (failed.status, failed.ended_at) == (TokenStatus.ACTIVE, None)
    run_due_jobs()
    assert fresh(instance).status == "completed"
    assert [status for _, _, status in tokens(instance)] == [TokenStatus.DONE] * 2


def test_terminate__cancels_active_and_waiting_tokens_with_their_end_time():
    publish(
        "waits",
        [
            {"id": "split", "type": "parallel_gateway", "next": ["call", "ask"]},
            service_step("call", "test.noop", next=["join"]),
            {"id": "ask", "type": "user_task", "config": {}, "next": ["join"]},
            {"id": "join", "type": "parallel_gateway", "next": ["end"]},
            {"id": "end", "type": "end"},
        ],
    )
    instance = instance_start(definition_key="waits")
    run_due_jobs()
    instance_terminate(instance=fresh(instance))
    cancelled = Token.objects.filter(instance=instance, status=TokenStatus.CANCELLED)
    assert sorted(cancelled.values_list("node_id", flat=True)) == ["ask", "join"]
    assert not cancelled.filter(ended_at=None).exists()


def test_bulk_changes__are_what_the_transition_sets():
    assert Token.transition_sources("cancel") == (
        TokenStatus.ACTIVE,
        TokenStatus.WAITING,
        TokenStatus.FAILED,
    )
    changes = Token.transition_changes("end")
    assert set(changes) == set(Token.TRANSITION_FIELDS)
    assert changes["status"] == TokenStatus.DONE and changes["ended_at"] is not None
    assert Token.transition_changes("reactivate") == {
        "status": TokenStatus.ACTIVE,
        "ended_at": None,
    }
