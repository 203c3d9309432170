"""A fail step: the instance fails with `error` / `cause`.

JSON ``{"type": "fail", "config": {error, cause}}``; YAML ``type: fail`` with `error`,
`cause`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.engine.plan import Fail
from processes.nodes.base import Names, PassingKind, YamlPlace
from processes.nodes.end import refuse_next_json, refuse_next_yaml

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk

DEFAULT_ERROR = "Failed"  # the error of a fail step that names none


class FailKind(PassingKind):
    type = "fail"
    json_type = "fail"
    yaml_type = "fail"
    fields = ("error", "cause")
    bpmn = BpmnElement("endEvent", *EVENT_SIZE, event_definition="errorEventDefinition")
    ends_path = True

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        refuse_next_json(step, next_names, link, "a fail step")
        return {"error": config.text("error"), "cause": config.text("cause")}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        refuse_next_yaml(state, place.link, "a fail state")
        return {"error": state.text("error"), "cause": state.text("cause")}

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Fail(node.id, arrived_from, self.error_code(node), node.cause or node.name))

    def error_code(self, node: Node) -> str:
        return node.error or DEFAULT_ERROR


KIND = FailKind()
