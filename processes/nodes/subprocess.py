"""A subprocess step (call activity): starts a child instance and waits for it, held by it.

JSON ``{"type": "subprocess", "config": {"definition": "credit-check", "version":
"latest", "input": {"customer": "${customer_id}"}, "output": {"score": "${score}"}}}``
with `catch`, `retry_policy` and `boundary` as on a service step; YAML ``type:
subprocess`` with `definition`, `version`, `input`, `output`, `retry`, `catch`,
`boundary`, `next` / `end`.

`input` is rendered against the parent's variables and is the child's start variables;
`output` is rendered against the child's variables when it completes and merged into the
parent's. The child's failure fails the step (`processes.services.subprocesses`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import TASK_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.dsl.parts import read_catch, read_input
from processes.engine.expressions import render
from processes.engine.plan import Activate
from processes.nodes.base import Names, YamlPlace
from processes.nodes.boundary import read_boundary
from processes.nodes.loop import LoopHost, read_for_each
from processes.nodes.service import json_retry, yaml_retry

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.models import DefinitionVersion, ProcessInstance, Timer, Token
    from processes.services.advance import Change
    from processes.services.loops import Item

LATEST = "latest"


class SubprocessKind(LoopHost):
    type = "subprocess"
    json_type = "subprocess"
    yaml_type = "subprocess"
    fields = (
        "next",
        "definition",
        "version",
        "input",
        "output",
        "retry",
        "catch",
        "boundary",
        "for_each",
    )
    bpmn = BpmnElement("callActivity", *TASK_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            **_read_call(config),
            "retry": json_retry(config) if config.has("retry_policy") else (),
            "catch": read_catch(config, "catch", link),
            "boundary": read_boundary(config, "boundary", link),
            "for_each": read_for_each(config),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {
            **_read_call(state),
            "retry": yaml_retry(state),
            "catch": read_catch(state, "catch", place.link),
            "boundary": read_boundary(state, "boundary", place.link, in_branch=place.in_branch),
            "next": place.successor(state),
        }

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter_one(
        self, change: Change, node: Node, arrived_from: str, *, item: Item | None
    ) -> None:
        """Place the token, arm its boundary events and start the child in this
        transaction (see `child_start`)."""
        from processes.services.subprocesses import subprocess_enter

        subprocess_enter(change, node=node, arrived_from=arrived_from, item=item)

    def child_start_with(
        self, change: Change, node: Node, variables: dict[str, Any]
    ) -> tuple[DefinitionVersion | None, str, dict[str, Any]]:
        """What the step's child runs: the version (None: there is none), the scope in
        it (`Graph.scope`) and the child's start variables, `input` rendered against
        `variables` (ExpressionError when it cannot be)."""
        values = render(node.input, variables) if node.input is not None else {}
        return _version(node), "", values if isinstance(values, dict) else {"value": values}

    def child_result(
        self, change: Change, node: Node, token: Token, child: ProcessInstance
    ) -> dict[str, Any]:
        """What the completed `child` gives its step: `output` rendered against its
        variables (ExpressionError when it cannot be)."""
        output = render(node.output, child.variables) if node.output is not None else {}
        return output if isinstance(output, dict) else {"value": output}

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """Terminate the children the instance's tokens wait for (and theirs, in turn)."""
        from processes.services.subprocesses import children_terminate

        children_terminate(change, by_engine=by_engine)

    def holder_cancel_one(self, change: Change, token_id: int) -> None:
        """An interrupting boundary event: terminate the child the token waits for."""
        from processes.services.subprocesses import children_terminate

        children_terminate(change, token_id=token_id, by_engine=True)

    def suspend(self, change: Change) -> None:
        """Suspend the running children (and theirs, in turn)."""
        from processes.services.subprocesses import children_suspend

        children_suspend(change)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Resume the suspended children, then apply the ends of those that ended while
        the instance did not run."""
        from processes.services.subprocesses import children_catch_up

        children_catch_up(change)

    def retry(self, change: Change, token: Token) -> None:
        """An operator's retry: walk into the step again, which starts a new child."""
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """A boundary timer, or the step's own retry timer (no boundary index): its
        backoff has passed, start a new child."""
        if timer.boundary is not None:
            super().timer_fire(change, timer, reason=reason)
            return
        from processes.services.subprocesses import child_restart
        from processes.services.timers import timer_mark_fired

        timer_mark_fired(change, timer, reason=reason)
        child_restart(change, timer=timer)


def _read_call(section: Section) -> dict[str, Any]:
    """`definition` (a key), `version` ("latest" or a number from 1), `input`, `output`."""
    version = None
    if section.has("version") and section.data["version"] != LATEST:
        value = section.data["version"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            section.problem("version", f"'version' must be \"{LATEST}\" or a number from 1")
        else:
            version = value
    return {
        "definition": section.text("definition", required=True),
        "version": version,
        "input": read_input(section),
        "output": read_input(section, "output"),
    }


def _version(node: Node) -> DefinitionVersion | None:
    from processes.models import DefinitionVersion

    versions = DefinitionVersion.objects.filter(definition__key=node.definition).select_related(
        "definition"
    )
    if node.version is not None:
        return versions.filter(number=node.version).first()
    return versions.order_by("-number").first()


def is_subprocess(node: Node) -> bool:
    """A step that waits for a child instance (a subprocess, a map)."""
    from processes.nodes import node_kind

    return isinstance(node_kind(node), SubprocessKind)


KIND = SubprocessKind()
