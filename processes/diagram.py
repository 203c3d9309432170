"""An instance drawn on its version's BPMN diagram: where it waits, where it failed, the
steps and flows it passed, and the tasks and jobs of each step.

`instance_diagram` reads the instance's tokens, history, tasks and jobs in a fixed number
of queries whatever their count; `path_taken` is the pure part, from those rows to the
BPMN element ids to mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from processes.bpmn.model import START_ID, Flow, Picture, graph_picture
from processes.bpmn.versions import version_bpmn
from processes.models import DefinitionVersion, Event, Job, ProcessInstance, Token
from processes.nodes import node_kind
from processes.selectors import definitions_startable_by
from processes.statuses import EventType, TokenStatus


@dataclass(frozen=True)
class Work:
    """A task or a job of a step, as the panel beside the diagram shows it."""

    kind: str  # "task" or "job"
    name: str
    state: str
    who: str  # a task's assignee, a job's attempt
    url: str | None = None  # the task page, when the user may see it
    error: str = ""


@dataclass
class StepWork:
    element_id: str
    step_id: str
    name: str
    work: list[Work] = field(default_factory=list)


@dataclass(frozen=True)
class Path:
    waiting: list[str]
    failed: list[str]
    passed: list[str]
    flows: list[str]


@dataclass
class Diagram:
    """What templates/processes/diagram.html draws: the BPMN XML and, for an instance, its
    state (element ids by marker) and the work of its steps."""

    bpmn: str
    state: dict[str, list[str]] | None = None
    steps: list[StepWork] = field(default_factory=list)
    definition_url: str | None = None


def version_diagram(*, version: DefinitionVersion) -> Diagram:
    """The diagram of a version alone, without an instance on it."""
    return Diagram(bpmn=version_bpmn(version=version))


def instance_diagram(*, instance: ProcessInstance, user: Any) -> Diagram:
    """The diagram of `instance`'s version with its state, for `user`."""
    from tasks.models import Task
    from tasks.selectors import tasks_visible_to

    picture = graph_picture(instance.graph)
    tokens = list(
        Token.objects.filter(instance=instance).values_list("node_id", "status", "arrived_from")
    )
    events = list(
        Event.objects.filter(instance=instance)
        .order_by("id")
        .values_list("type", "step_id", "payload")
    )
    path = path_taken(picture, events=events, tokens=tokens)

    steps = {
        node.id: StepWork(picture.step_shapes[node.id], node.id, node.name)
        for node in instance.graph.nodes.values()
    }
    tasks = Task.objects.filter(instance=instance).select_related("assignee").order_by("id")
    visible = set(
        tasks_visible_to(user=user).filter(instance=instance).values_list("pk", flat=True)
    )
    for task in tasks:
        url = reverse("task-detail", args=[task.pk]) if task.pk in visible else None
        who = task.assignee.get_username() if task.assignee else ""
        _step(steps, task.step_id).work.append(
            Work("task", task.name, task.get_state_display(), who, url)
        )
    for job in (
        Job.objects.filter(instance=instance)
        .order_by("id")
        .only("step_id", "service", "status", "attempt", "error")
    ):
        _step(steps, job.step_id).work.append(
            Work(
                "job",
                job.service,
                job.get_status_display(),
                f"attempt {job.attempt}",
                error=job.error,
            )
        )
    definition_url = None
    if definitions_startable_by(user=user).filter(pk=instance.definition_id).exists():
        definition_url = reverse("definition-detail", args=[instance.definition.key])
        definition_url += f"?version={instance.definition_version.number}"
    return Diagram(
        bpmn=version_bpmn(version=instance.definition_version, scope=instance.scope),
        state={
            "waiting": path.waiting,
            "failed": path.failed,
            "passed": path.passed,
            "flows": path.flows,
            "clickable": [s.element_id for s in steps.values() if s.work and s.element_id],
        },
        steps=[s for s in steps.values() if s.work],
        definition_url=definition_url,
    )


def _step(steps: dict[str, StepWork], step_id: str) -> StepWork:
    """The step's entry (a step of an older shape of the graph gets one of its own)."""
    return steps.setdefault(step_id, StepWork("", step_id, step_id))


def path_taken(
    picture: Picture,
    *,
    events: Iterable[tuple[str, str, dict]],
    tokens: Iterable[tuple[str, str, str]],
) -> Path:
    """Which elements an instance waits at, failed at and passed, and which flows it took.

    `events` are (type, step id, payload) in order, `tokens` (step id, status, arrived
    from). A step that waits leaves a token; a step that finished, a gateway that chose and
    a join that fired leave events; the rest (forks, ends) follow from those.
    """
    graph = picture.graph
    taken: dict[str, Flow] = {}

    def take(flows: Iterable[Flow]) -> None:
        for flow in flows:
            taken.setdefault(flow.id, flow)

    waiting, failed = [], []
    for step_id, status, arrived_from in tokens:
        if step_id not in picture.step_shapes:
            continue
        if status in (TokenStatus.ACTIVE, TokenStatus.WAITING):
            waiting.append(step_id)
        elif status == TokenStatus.FAILED:
            failed.append(step_id)
        take(_between(picture, arrived_from, step_id)[:1])
    for kind, step_id, payload in events:
        if kind == EventType.WORKFLOW_STARTED:
            take(_between(picture, "", graph.start))
        elif step_id not in graph.nodes:
            continue
        elif kind in (
            EventType.TASK_COMPLETED,
            EventType.JOIN_COMPLETED,
            EventType.COMPENSATION_COMPLETED,
        ):
            take(_onward(picture, step_id))
        elif kind == EventType.GATEWAY_EVALUATED:
            take(_between(picture, step_id, payload.get("next"))[:1])
        elif kind == EventType.TASK_FAILED and payload.get("next"):
            take(_between(picture, step_id, payload["next"], caught=True)[:1])
    # A fork passes every token on at once and leaves no trace of its own.
    reached: set[str] = set()
    pending = [f.to_step for f in taken.values()]
    while pending:
        step_id = pending.pop()
        if step_id in reached:
            continue
        reached.add(step_id)
        node = graph.node(step_id)
        if node_kind(node).forks(graph, node):
            for flow in _onward(picture, step_id):
                if flow.id not in taken:
                    taken[flow.id] = flow
                    pending.append(flow.to_step)
    shape = picture.step_shapes
    stopped = {*waiting, *failed}
    passed = [START_ID] if any(f.source == START_ID for f in taken.values()) else []
    passed += [shape[s] for s in graph.nodes if s in reached - stopped]
    passed += [f.source for f in taken.values() if f.caught or f.boundary]
    return Path(
        waiting=[shape[s] for s in dict.fromkeys(waiting)],
        failed=[shape[s] for s in dict.fromkeys(failed) if s not in waiting],
        passed=passed,
        flows=[f.id for f in picture.flows if f.id in taken],
    )


def _onward(picture: Picture, step_id: str) -> list[Flow]:
    """The flows a step takes when it is done: its `next` ones."""
    return [
        f
        for f in picture.flows
        if f.from_step == step_id
        and f.condition is None
        and not (f.is_default or f.caught or f.boundary)
    ]


def _between(picture: Picture, from_step: str, to_step: Any, *, caught: bool = False) -> list[Flow]:
    """The flows from one step to another ("" is the start event), catch routes or not."""
    return [
        f
        for f in picture.flows
        if f.from_step == from_step and f.to_step == to_step and bool(f.caught) == caught
    ]
