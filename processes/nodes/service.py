"""A service step: runs a registered service on a worker, held by a Job.

JSON ``{"type": "service_task", "config": {service_name, method?, input?, timeout?,
retry_policy?, catch?, compensation?}}``; YAML ``type: task`` with `resource`, `input`,
`timeout`, `retry`, `catch`, `compensation`. A YAML `resource: "flowdesk:step:NAME"` is a
step of step type NAME, read by `processes.nodes.step_types` (as JSON ``"type": "NAME"``).

A step's `compensation` names its undo, which a `compensate` step runs once the step
completed (`processes.nodes.compensate`): JSON ``{service_name, method?, input?,
retry_policy?}``, YAML ``{resource, input?, retry?}``, read as the step's own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import TASK_SIZE, BpmnElement
from processes.dsl.graph import Compensation, Node, RetryRule
from processes.dsl.parts import error_names, read_catch, read_input
from processes.engine.expressions import ExpressionError, render
from processes.engine.plan import Activate
from processes.nodes.base import Names, YamlPlace
from processes.nodes.boundary import boundary_prepare, read_boundary
from processes.nodes.loop import LoopHost, item_named, item_payload, item_token, read_for_each
from processes.registry import step_type_of_resource

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Draft, Links
    from processes.dsl.problems import Problems
    from processes.engine.routing import Walk
    from processes.models import Token
    from processes.services.advance import Change
    from processes.services.loops import Item

BACKOFF_RATES = {"fixed": 1.0, "exponential": 2.0}
_ARN_FUNCTION = re.compile(r"arn:.*?:function:([^:]+)")


class ServiceKind(LoopHost):
    type = "service"
    json_type = "service_task"
    yaml_type = "task"
    fields = (
        "next",
        "service",
        "input",
        "timeout_seconds",
        "retry",
        "catch",
        "boundary",
        "compensation",
        "for_each",
    )
    bpmn = BpmnElement("serviceTask", *TASK_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            "service": _json_service(config),
            "input": read_input(config),
            "timeout_seconds": config.duration("timeout"),
            "retry": json_retry(config) if config.has("retry_policy") else (),
            "catch": read_catch(config, "catch", link),
            "boundary": read_boundary(config, "boundary", link),
            "compensation": _json_compensation(config),
            "for_each": read_for_each(config),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        step_type = step_type_of_resource(state.data.get("resource") or "")
        if step_type is not None:  # ``resource: "flowdesk:step:NAME"`` with its `config`
            from processes.nodes.step_types import read_yaml_step

            return read_yaml_step(state, place, step_type)
        return {
            "service": _service_name(state.text("resource", required=True)),
            "input": read_input(state),
            "timeout_seconds": state.duration("timeout"),
            "retry": yaml_retry(state),
            "catch": read_catch(state, "catch", place.link),
            "boundary": read_boundary(state, "boundary", place.link, in_branch=place.in_branch),
            "compensation": _yaml_compensation(state),
            "next": place.successor(state),
        }

    def check(self, draft: Draft, problems: Problems, *, service_exists) -> None:
        service = draft.node.service
        if not service_exists(service):
            step_type = step_type_of_resource(service)
            unknown = f"service '{service}'" if step_type is None else f"step type '{step_type}'"
            problems.add(draft.service_path, f"unknown {unknown}", step=draft.id)
        compensation = draft.node.compensation
        if compensation is not None and not service_exists(compensation.service):
            # Written under `compensation` with the key the step's own service has.
            parent, _, key = draft.service_path.rpartition("/")
            problems.add(
                f"{parent}/compensation/{key}",
                f"unknown compensation service '{compensation.service}'",
                step=draft.id,
            )

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter_one(
        self, change: Change, node: Node, arrived_from: str, *, item: Item | None
    ) -> None:
        """Place the token and its job; with `change.keep_one_job`, lease the first job to
        the calling worker instead of sending it."""
        from django.utils import timezone

        from processes.models import Job
        from processes.rows import row_insert
        from processes.services.advance import fail_on_expression, token_place
        from processes.settings import engine_setting
        from processes.statuses import EventType, TokenHolder

        instance = change.instance
        variables = instance.variables if item is None else item.variables
        try:
            input_values = render(node.input, variables) if node.input is not None else {}
            # An item's step carries no boundary events: its loop's token does.
            due = boundary_prepare(node, variables, now=timezone.now()) if item is None else []
        except ExpressionError as exc:
            token = item_token(change, node, arrived_from, item)
            fail_on_expression(change, node, arrived_from, exc, token_id=token)
            return
        token = token_place(change, node, arrived_from, holder=TokenHolder.JOB, item=item)
        job = Job(
            instance=instance,
            token=token,
            step_id=node.id,
            service=node.service,
            input=input_values if isinstance(input_values, dict) else {"value": input_values},
            timeout_seconds=node.timeout_seconds or engine_setting("DEFAULT_TIMEOUT"),
            dispatched_at=timezone.now(),
        )
        keep = change.keep_one_job and change.kept_job is None
        if keep:
            job.lease(token=uuid.uuid4(), grace_seconds=engine_setting("LEASE_GRACE"))
        row_insert(job)
        if keep:
            change.kept_job = job
        else:
            change.job_ids.append(job.pk)
        change.log.add_by_engine(
            EventType.TASK_SCHEDULED,
            node.id,
            kind=self.type,
            service=node.service,
            job_id=job.pk,
            **item_payload(item),
        )
        if item is None:
            self.boundary_arm(change, node, token, due)

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        log = change.log.add_by_engine if by_engine else change.log.add
        _jobs_cancel(change, {"instance": change.instance}, log=log)

    def holder_cancel_one(self, change: Change, token_id: int) -> None:
        """Cancel the token's job: a worker running it finds its lease gone, and its late
        result changes nothing."""
        _jobs_cancel(change, {"token_id": token_id}, log=change.log.add_by_engine)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Apply job outcomes that arrived meanwhile, then resend the due jobs.

        With `rerun_failed` (an operator's retry), a job that failed for good while the
        instance was not running gets another attempt instead of failing the instance again.
        """
        from processes.models import Job
        from processes.services.dispatch import instance_jobs_redispatch
        from processes.services.job_reports import job_failure_apply, job_success_apply
        from processes.statuses import EventType, InstanceStatus, JobStatus, TokenStatus

        finished = Job.objects.filter(
            instance=change.instance,
            token__status=TokenStatus.ACTIVE,
            status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED),
        ).order_by("finished_at", "id")
        for job in finished:
            if change.instance.status != InstanceStatus.RUNNING:
                break
            if job.status == JobStatus.SUCCEEDED:
                job_success_apply(
                    change,
                    job_id=job.pk,
                    token_id=job.token_id,
                    step_id=job.step_id,
                    result=job.result or {},
                    attempt=job.attempt,
                    compensates=job.compensates_id,
                )
            elif rerun_failed:
                job.reschedule(delay_seconds=0, next_attempt=True)
                job.save()
                change.log.add(
                    EventType.TASK_RETRIED, job.step_id, attempt=job.attempt, manual=True
                )
            else:
                job_failure_apply(change, job=job)
        instance_jobs_redispatch(change)

    def retry(self, change: Change, token: Token) -> None:
        """Run the failed job once more (its next attempt), a compensation's too; a step
        that failed before it had a job (its input template) is walked into again, a
        compensation that did is scheduled again."""
        from processes.models import Job
        from processes.services.advance import token_walk_again
        from processes.services.compensations import compensation_retry
        from processes.statuses import EventType, TokenHolder

        job = Job.objects.filter(token=token).first()
        if job is None:
            if token.holder == TokenHolder.COMPENSATION:
                compensation_retry(change, token)
            else:
                token_walk_again(change, token)
            return
        token.reactivate()
        token.save(update_fields=token.TRANSITION_FIELDS)
        change.instance.active_tokens += 1
        job.reschedule(delay_seconds=0, next_attempt=True)
        job.lease_losses = 0
        job.save()
        change.log.add(EventType.TASK_RETRIED, job.step_id, attempt=job.attempt, manual=True)


def _json_service(config: Section) -> str:
    service = config.text("service_name", required=True)
    method = config.text("method")
    return f"{service}.{method}" if service and method else service


def _json_compensation(config: Section) -> Compensation | None:
    if not config.has("compensation"):
        return None
    section = config.section("compensation")
    return Compensation(
        service=_json_service(section),
        input=read_input(section),
        retry=json_retry(section) if section.has("retry_policy") else (),
    )


def _yaml_compensation(state: Section) -> Compensation | None:
    if not state.has("compensation"):
        return None
    section = state.section("compensation")
    return Compensation(
        service=_service_name(section.text("resource", required=True)),
        input=read_input(section),
        retry=yaml_retry(section),
    )


def json_retry(config: Section) -> tuple[RetryRule, ...]:
    """``retry_policy: {max_attempts, backoff: fixed|exponential, interval, errors}``."""
    policy = config.section("retry_policy")
    backoff = policy.text("backoff", default="fixed")
    if backoff not in BACKOFF_RATES:
        policy.problem("backoff", f"'backoff' must be one of: {', '.join(BACKOFF_RATES)}")
    return (
        RetryRule(
            error_equals=error_names(policy, "errors"),
            interval_seconds=policy.duration("interval", default=1.0, positive=False),
            max_attempts=policy.integer("max_attempts", default=3, minimum=1),
            backoff_rate=BACKOFF_RATES.get(backoff, 1.0),
        ),
    )


def yaml_retry(state: Section) -> tuple[RetryRule, ...]:
    """``retry: [{errorEquals, intervalSeconds, maxAttempts, backoffRate}]``."""
    return tuple(
        RetryRule(
            error_equals=error_names(rule, "errorEquals"),
            interval_seconds=rule.duration("intervalSeconds", default=1.0, positive=False),
            max_attempts=rule.integer("maxAttempts", default=3, minimum=1),
            backoff_rate=rule.number("backoffRate", default=2.0, minimum=1.0),
        )
        for rule in state.sections("retry")
    )


def _service_name(resource: str) -> str:
    """``arn:...:function:NAME[:qualifier]`` names service NAME; anything else is the name."""
    match = _ARN_FUNCTION.match(resource)
    return match.group(1) if match else resource


KIND = ServiceKind()


def _jobs_cancel(change: Change, where: dict[str, Any], *, log: Callable[..., None]) -> None:
    """Cancel the scheduled and running jobs `where` selects (locked, under the instance
    lock), each with its TASK_CANCELLED event made by `log`: the person's who terminated,
    or the engine's when a boundary event interrupts the step."""
    from django.db.models import F

    from processes.models import Job
    from processes.statuses import EventType, JobStatus

    running = (JobStatus.SCHEDULED, JobStatus.RUNNING)
    jobs = Job.objects.filter(status__in=running, **where).annotate(
        loop_index=F("token__loop_index")
    )
    for job in jobs.select_for_update(of=("self",)):
        job.cancel()
        job.save()
        log(EventType.TASK_CANCELLED, job.step_id, job_id=job.pk, **item_named(job.loop_index))
