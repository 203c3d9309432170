"""An end: the path ends here. JSON ``{"type": "end"}``; YAML ``type: succeed``, which
inside a parallel branch makes no node and flows into the branch's join.

A terminate end (JSON ``"config": {"terminate": true}``, YAML ``terminate: true`` on a
`succeed`) ends the whole instance at once, as completed: what holds its other tokens (tasks,
jobs, timers, subscriptions) is cancelled, by the engine, and no step after it runs. Inside a
YAML parallel branch it is a node of its own, not the branch's exit: it ends everything, not
the branch.

A JSON end with ``"config": {"error": "CreditDenied", "cause": ...}`` is an error end: the
instance fails there with that error, as at a `fail` step (a parent's subprocess step sees
the name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.dsl.parts import link_all
from processes.engine.plan import Activate, End, Fail
from processes.nodes.base import Names, PassingKind, YamlPlace

if TYPE_CHECKING:
    from collections.abc import Mapping

    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.services.advance import Change

TERMINATE_END = BpmnElement("endEvent", *EVENT_SIZE, event_definition="terminateEventDefinition")


class EndKind(PassingKind):
    type = "end"
    json_type = "end"
    yaml_type = "succeed"
    fields = ("terminate", "error", "cause")
    bpmn = BpmnElement("endEvent", *EVENT_SIZE)
    ends_path = True

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        refuse_next_json(step, next_names, link, "an end step")
        terminate, error = config.flag("terminate"), config.text("error")
        if terminate and error:
            config.problem("error", "an end either terminates or fails with an error, not both")
        return {"terminate": terminate, "error": error, "cause": config.text("cause")}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any] | None:
        refuse_next_yaml(state, place.link, "a succeed state")
        terminate = state.flag("terminate")
        return None if place.in_branch and not terminate else {"terminate": terminate}

    def yaml_branch_alias(self, state: Mapping[str, Any]) -> bool:
        return state.get("terminate") is not True

    def bpmn_element(self, node: Node) -> BpmnElement:
        return TERMINATE_END if node.terminate else self.bpmn

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        if node.error:
            walk.emit(Fail(node.id, arrived_from, node.error, node.cause or node.name))
            return
        # A terminate end acts on the database: its `enter` ends the instance.
        walk.emit(Activate(node.id, arrived_from) if node.terminate else End(node.id))

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """A terminate end: cancel everything else, by the engine, and complete the
        instance here. An instance the same walk failed already stays failed."""
        from processes.services.advance import instance_cancel_all
        from processes.statuses import EventType, InstanceStatus

        if not node.terminate:
            super().enter(change, node, arrived_from)
        if change.instance.status != InstanceStatus.RUNNING:
            return
        instance_cancel_all(change, by_engine=True)
        change.instance.complete()
        change.log.add_by_engine(EventType.WORKFLOW_COMPLETED, node.id, terminated_at=node.id)

    def error_code(self, node: Node) -> str | None:
        return node.error or None


def refuse_next_json(step: Section, next_names: Names, link: Links, what: str) -> None:
    """An end has no `next`; the steps it names still count as reached."""
    if next_names:
        step.problem("next", f"{what} has no 'next'")
        link_all(next_names, link)


def refuse_next_yaml(state: Section, link: Links, what: str) -> None:
    if state.has("next"):
        state.problem("next", f"{what} has no 'next'")
        link_all(state.names("next", single=True), link)


KIND = EndKind()
