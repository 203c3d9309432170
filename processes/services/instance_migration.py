"""Moving a running instance to another version of its definition (Camunda's migration).

Every place the instance waits — a token at a step (held by a job, a task, a timer, a
subscription, a child, a loop), a token waiting at a join, a failed token — must map to a
step of the same kind in the target version: the step with the same id, unless `mapping`
says otherwise. A boundary timer or message armed on the step must find the same event at
the same place on the new step; a join's waiting branch must still lead into the new join.
Variables the target version requires and the instance lacks must come with the call, of
their declared types. When all of that holds, the rows move as they are: a task keeps its
id, assignee, claim, due date and history (its name and form become the new step's), a
timer keeps its due time, a subscription is re-keyed only when the new step computes its
name or key differently, a job not yet leased runs the new step's service. Otherwise the
report says what does not fit and nothing changes.

A real run is one transaction under the instance's row lock (`instance_change`); a dry
run reads the same rows and writes nothing. The history gets `INSTANCE_MIGRATED` (from,
to, moves, by whom). Children keep their own versions: a subprocess's child is another
definition, and a map's items run the version they started on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Value, When

from accounts.permissions import can_control_instances, require
from processes.dsl.graph import Graph
from processes.engine.expressions import ExpressionError, render
from processes.errors import InvalidInput
from processes.models import (
    DefinitionVersion,
    Job,
    Loop,
    ProcessInstance,
    Subscription,
    Timer,
    Token,
    graph_of_version,
)
from processes.nodes import node_kind
from processes.rows import rows_update
from processes.selectors import version_numbered
from processes.services.advance import Change, instance_change
from processes.statuses import (
    EventType,
    InstanceStatus,
    JobStatus,
    SubscriptionStatus,
    TaskState,
    TimerStatus,
    TokenStatus,
)
from processes.variables import variables_check
from tasks.models import Task

MIGRATABLE = (InstanceStatus.RUNNING, InstanceStatus.FAILED)
LIVE_TOKENS = (TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED)


@dataclass
class MigrationReport:
    """What a migration did, or would do: `moves` maps each step the instance waits at to
    its step in the target version; `problems` lists what stops it, each `{step, problem}`
    ("" for the instance as a whole). `ok` when there are none."""

    instance_id: str
    from_version: int
    to_version: int
    moves: dict[str, str] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False
    # Subscriptions to re-key, by id: (name, correlation key) as the new step computes them.
    rekeys: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)
    # Jobs no worker holds, by id: what they take from the new step (service, input).
    job_changes: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def refuse(self, step: str, problem: str) -> None:
        self.problems.append({"step": step, "problem": problem})

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "ok": self.ok,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "moves": self.moves,
            "problems": self.problems,
            "dry_run": self.dry_run,
        }


def instance_migrate(
    *,
    instance: ProcessInstance,
    to_version: int,
    mapping: dict[str, str] | None = None,
    variables: dict[str, Any] | None = None,
    dry_run: bool = False,
    user: Any = None,
) -> MigrationReport:
    """Move `instance` to version number `to_version` of its definition (see the module).
    Locks the instance's row. A migration that does not fit returns its report with `ok`
    false and changes nothing; NotAllowed for a user who may not migrate (managers and
    admins may), NotFound for an unknown version, InvalidInput for a malformed mapping or
    variables."""
    require(user, can_control_instances, "only managers and admins may migrate a process")
    mapping = mapping_checked(mapping)
    if variables is not None and not isinstance(variables, dict):
        raise InvalidInput("variables must be a JSON object")
    with instance_change(instance.pk, actor=user) as change:
        target = version_numbered(
            definition=change.instance.definition, number=to_version, field="to_version"
        )
        report = migration_plan(change, target=target, mapping=mapping, variables=variables)
        report.dry_run = dry_run
        if report.ok and not dry_run:
            _apply(change, target, report, variables or {})
    return report


def migration_plan(
    change: Change,
    *,
    target: DefinitionVersion,
    mapping: dict[str, str],
    variables: dict[str, Any] | None,
) -> MigrationReport:
    """The report of moving the locked instance of `change` to `target`; writes nothing."""
    instance = change.instance
    report = MigrationReport(
        instance_id=instance.pk,
        from_version=instance.definition_version.number,
        to_version=target.number,
    )
    if instance.status not in MIGRATABLE:
        report.refuse("", f"the instance is {instance.status}: only a running or failed one moves")
        return report
    if instance.scope:
        report.refuse("", "a map step's item moves with the version it started on, not alone")
        return report
    old, new = change.graph, graph_of_version(target.pk)
    tokens = list(
        Token.objects.filter(instance=instance, status__in=LIVE_TOKENS).values_list(
            "node_id", "arrived_from", "status"
        )
    )
    steps = _waiting_steps(instance, tokens)
    for step in steps:
        moved = mapping.get(step, step)
        report.moves[step] = moved
        problem = _step_problem(old, new, step, moved, mapping)
        if problem:
            report.refuse(step, problem)
    for node_id, arrived_from, status in tokens:
        if status == TokenStatus.WAITING and node_id in report.moves and arrived_from:
            _join_problem(new, report, node_id, arrived_from, mapping)
    for step, position in _armed_boundaries(instance):
        _boundary_problem(old, new, report, step, position, mapping.get(step, step))
    _variables_problems(new, instance.variables, variables, report)
    if report.ok:
        merged = {**instance.variables, **(variables or {})}
        _rekeys_plan(instance, old, new, report, merged)
        _jobs_plan(change, old, new, report)
    return report


def _apply(change: Change, target: DefinitionVersion, report: MigrationReport, given: dict) -> None:
    instance = change.instance
    new = graph_of_version(target.pk)
    renamed = {step: moved for step, moved in report.moves.items() if step != moved}
    if renamed:
        live = {"instance": instance}
        _rename(Token.objects.filter(status__in=LIVE_TOKENS, **live), "node_id", renamed)
        _rename(Token.objects.filter(status__in=LIVE_TOKENS, **live), "arrived_from", renamed)
        _rename(Job.objects.filter(status__in=_LIVE_JOBS, **live), "step_id", renamed)
        _rename(Timer.objects.filter(status=TimerStatus.SCHEDULED, **live), "step_id", renamed)
        waiting = Subscription.objects.filter(status=SubscriptionStatus.WAITING, **live)
        _rename(waiting, "step_id", renamed)
        _rename(Loop.objects.filter(token__status=TokenStatus.ACTIVE, **live), "step_id", renamed)
        _rename(Task.objects.filter(state__in=_WAITING_TASKS, **live), "step_id", renamed)
    for job_id, changes in report.job_changes.items():
        rows_update(Job, changes, pk=job_id)
    _tasks_follow(instance, new)
    for subscription_id, (name, key) in report.rekeys.items():
        rows_update(Subscription, {"name": name, "correlation_key": key}, pk=subscription_id)
    if given:
        instance.variables = {**instance.variables, **given}
    from_version = instance.definition_version.number
    rows_update(ProcessInstance, {"definition_version": target.pk}, pk=instance.pk)
    instance.definition_version = target
    change.log.add(
        EventType.INSTANCE_MIGRATED,
        **{"from": from_version, "to": target.number, "moves": report.moves},
        **({"variables": given} if given else {}),
    )


_LIVE_JOBS = (JobStatus.SCHEDULED, JobStatus.RUNNING, JobStatus.FAILED)
_IDLE_JOBS = (JobStatus.SCHEDULED, JobStatus.FAILED)  # no worker holds them
_WAITING_TASKS = (TaskState.OPEN, TaskState.ASSIGNED)


def _rename(rows, column: str, renamed: dict[str, str]) -> None:
    """One UPDATE renaming `column` by `renamed`, so two steps that swap names do not
    collide."""
    rows.filter(**{f"{column}__in": list(renamed)}).update(
        **{
            column: Case(
                *(When(**{column: old}, then=Value(new)) for old, new in renamed.items()),
                default=column,
            )
        }
    )


def _jobs_plan(change: Change, old: Graph, new: Graph, report: MigrationReport) -> None:
    """A job no worker holds (scheduled, or failed and waiting for a retry) runs the new
    step's service, with its input rendered again when the new step's differs; a
    compensation's, the new step's undo. An input the new step cannot render is a problem."""
    from processes.services.loops import token_variables

    idle = Job.objects.filter(instance=change.instance, status__in=_IDLE_JOBS).select_related(
        "token"
    )
    for job in idle:
        before, after = old.nodes[job.step_id], new.nodes[report.moves[job.step_id]]
        if job.compensates_id is not None:
            undo = after.compensation
            service = undo.service if undo is not None else job.service
            template, was = (
                (undo.input if undo else None),
                (before.compensation.input if before.compensation else None),
            )
        else:
            service, template, was = after.service or job.service, after.input, before.input
        changes: dict[str, Any] = {}
        if service != job.service:
            changes["service"] = service
        if template != was:
            try:
                values = render(template, token_variables(change, job.token)) if template else {}
            except ExpressionError as exc:
                report.refuse(job.step_id, f"its new input cannot be rendered: {exc}")
                continue
            changes["input"] = values if isinstance(values, dict) else {"value": values}
        if changes:
            report.job_changes[job.pk] = changes


def _tasks_follow(instance: ProcessInstance, new: Graph) -> None:
    """A task keeps its id, assignee, claim and due date; it shows the new step's name and
    asks its form."""
    from dataclasses import asdict

    waiting = Task.objects.filter(instance=instance, state__in=_WAITING_TASKS).only(
        "pk", "step_id", "name", "form"
    )
    for task in waiting:
        node = new.nodes[task.step_id]
        form = {name: asdict(spec) for name, spec in node.form.items()}
        if (task.name, task.form) != (node.name, form):
            Task.objects.filter(pk=task.pk).update(name=node.name, form=form)


def _rekeys_plan(
    instance: ProcessInstance, old: Graph, new: Graph, report: MigrationReport, variables: dict
) -> None:
    """A waiting subscription whose new step names its message or key differently is
    re-keyed against the variables now; one computed the same way keeps its key. A key
    the new step cannot compute is a problem."""
    from processes.services.subscriptions import correlation_key_render

    waiting = Subscription.objects.filter(instance=instance, status=SubscriptionStatus.WAITING)
    for subscription in waiting.only("pk", "step_id", "boundary"):
        step = subscription.step_id
        before, after = old.nodes[step], new.nodes[report.moves[step]]
        if subscription.boundary is not None:
            before = before.boundary[subscription.boundary]
            after = after.boundary[subscription.boundary]
        if _waits_for(before) == _waits_for(after):
            continue
        try:
            if subscription.boundary is not None:
                key = correlation_key_render(after.correlation_key, variables)
                report.rekeys[subscription.pk] = (after.message or after.signal, key)
            else:
                report.rekeys[subscription.pk] = node_kind(after).subscription_of(after, variables)
        except ExpressionError as exc:
            report.refuse(step, f"its new correlation key cannot be computed: {exc}")


def _waits_for(event: Any) -> tuple[str, str, str]:
    """What a message wait (a step, or a boundary event) is keyed by, as written."""
    return (event.message, event.signal, event.correlation_key)


def _waiting_steps(instance: ProcessInstance, tokens: Iterable[tuple]) -> list[str]:
    """Every step a live row of the instance names: its tokens' steps, and the steps whose
    timers or subscriptions an event gateway armed."""
    steps = [node_id for node_id, _, _ in tokens]
    steps += Timer.objects.filter(instance=instance, status=TimerStatus.SCHEDULED).values_list(
        "step_id", flat=True
    )
    steps += Subscription.objects.filter(
        instance=instance, status=SubscriptionStatus.WAITING
    ).values_list("step_id", flat=True)
    return list(dict.fromkeys(steps))


def _armed_boundaries(instance: ProcessInstance) -> list[tuple[str, int]]:
    timers = Timer.objects.filter(
        instance=instance, status=TimerStatus.SCHEDULED, boundary__isnull=False
    ).values_list("step_id", "boundary")
    subscriptions = Subscription.objects.filter(
        instance=instance, status=SubscriptionStatus.WAITING, boundary__isnull=False
    ).values_list("step_id", "boundary")
    return list(dict.fromkeys([*timers, *subscriptions]))


def _step_problem(old: Graph, new: Graph, step: str, moved: str, mapping: dict) -> str:
    if step not in old.nodes:
        return f"step '{step}' is not in the instance's version"
    if moved not in new.nodes:
        how = "the mapping names" if step in mapping else "there is no step of that id"
        return f"the instance waits at '{step}', and {how} '{moved}' in the target version"
    before, after = old.nodes[step], new.nodes[moved]
    if before.type != after.type:
        return (
            f"'{step}' is a {before.type} step and '{moved}' in the target version a"
            f" {after.type} step: a wait moves only to a step of the same kind"
        )
    if (before.for_each is None) != (after.for_each is None):
        once = "runs once" if before.for_each is None else "runs for each item"
        return f"'{step}' {once} and '{moved}' does not: a running loop cannot change that"
    return ""


def _join_problem(
    new: Graph, report: MigrationReport, join: str, came_from: str, mapping: dict
) -> None:
    moved_join, moved_from = report.moves[join], mapping.get(came_from, came_from)
    if moved_join in new.nodes and moved_from not in new.predecessors(moved_join):
        report.refuse(
            join,
            f"a branch waits at join '{join}' coming from '{came_from}', and '{moved_from}'"
            f" does not lead into '{moved_join}' in the target version",
        )


def _boundary_problem(
    old: Graph, new: Graph, report: MigrationReport, step: str, position: int, moved: str
) -> None:
    if step not in old.nodes or moved not in new.nodes:
        return  # reported for the step already
    armed = old.nodes[step].boundary[position]
    events = new.nodes[moved].boundary
    if position >= len(events) or events[position].type != armed.type:
        report.refuse(
            step,
            f"its boundary {armed.type} (number {position + 1} on '{step}') is armed, and"
            f" '{moved}' in the target version has no {armed.type} event at that place",
        )


def _variables_problems(
    new: Graph, current: dict, given: dict | None, report: MigrationReport
) -> None:
    given = given or {}
    try:
        variables_check(declared=new.variables, values=given)
    except InvalidInput as exc:
        for name, errors in (exc.field_errors or {"": [exc.message]}).items():
            report.refuse("", f"variable '{name}' {'; '.join(errors)}" if name else errors[0])
    for name, spec in new.variables.items():
        if spec.required and current.get(name) is None and given.get(name) is None:
            report.refuse(
                "",
                f"the target version requires variable '{name}' ({spec.type}) and the"
                " instance has none: give it in variables",
            )


def mapping_checked(mapping: Any) -> dict[str, str]:
    """`mapping` as `{old_step_id: new_step_id}`; InvalidInput naming `mapping` otherwise."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in mapping.items()
    ):
        raise InvalidInput(
            "mapping must be an object of step ids: {old_step_id: new_step_id}",
            field_errors={"mapping": ["an object of non-empty step ids"]},
        )
    return mapping
