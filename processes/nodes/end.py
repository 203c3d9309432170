"""An end: the path ends here. JSON ``{"type": "end"}``; YAML ``type: succeed``, which
inside a parallel branch makes no node and flows into the branch's join.

A JSON end with ``"config": {"error": "CreditDenied", "cause": ...}`` is an error end: the
instance fails there with that error, as at a `fail` step (a parent's subprocess step sees
the name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.dsl.parts import link_all
from processes.engine.plan import End, Fail
from processes.nodes.base import Names, PassingKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk


class EndKind(PassingKind):
    type = "end"
    json_type = "end"
    yaml_type = "succeed"
    fields = ("error", "cause")
    bpmn = BpmnElement("endEvent", *EVENT_SIZE)
    ends_path = True
    yaml_branch_alias = True

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        refuse_next_json(step, next_names, link, "an end step")
        return {"error": config.text("error"), "cause": config.text("cause")}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any] | None:
        refuse_next_yaml(state, place.link, "a succeed state")
        return None if place.in_branch else {}

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        if node.error:
            walk.emit(Fail(node.id, arrived_from, node.error, node.cause or node.name))
            return
        walk.emit(End(node.id))

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
