"""An exclusive gateway: the first branch whose condition holds, else the default.

JSON ``{"type": "exclusive_gateway", "config": {"conditions": [{expression, next}],
"default"?}}``; YAML ``type: choice`` with ``choices: [{condition, next}]`` and `default`.
A lone `next` is taken as the default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import GATEWAY_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.dsl.parts import exclusive_default, read_conditions
from processes.engine.expressions import ExpressionError, condition
from processes.engine.plan import EXPRESSION_ERROR, NO_CHOICE_MATCHED, Choose, Fail
from processes.nodes.base import Names, PassingKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk


NO_MATCH = "no condition matched and there is no default"


class ExclusiveKind(PassingKind):
    type = "exclusive"
    json_type = "exclusive_gateway"
    yaml_type = "choice"
    fields = ("conditions", "default")
    bpmn = BpmnElement("exclusiveGateway", *GATEWAY_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        default = config.text("default")
        return {
            "conditions": read_conditions(
                config, "conditions", expression_key="expression", link=link
            ),
            "default": exclusive_default(
                step, next_names, (default, config.at("default")) if default else None, link
            ),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        default = state.text("default")
        return {
            "conditions": read_conditions(
                state, "choices", expression_key="condition", link=place.link
            ),
            "default": exclusive_default(
                state,
                state.names("next", single=True),
                (default, state.at("default")) if default else None,
                place.link,
            ),
        }

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        chosen = _choose(node, arrived_from, walk.variables)
        walk.emit(chosen)
        if isinstance(chosen, Choose):
            walk.go(chosen.target, node.id)


def merge_node(node_id: str, target: str) -> Node:
    """A gateway with no conditions that passes every token on to `target`."""
    return Node(id=node_id, name=node_id, type=KIND.type, default=target)


def _choose(node: Node, arrived_from: str, variables) -> Choose | Fail:
    for branch in node.conditions:
        try:
            matched = condition(branch.expression, variables)
        except ExpressionError as exc:
            return Fail(node.id, arrived_from, EXPRESSION_ERROR, str(exc))
        if matched:
            return Choose(node.id, branch.next, branch.expression)
    if node.default:
        return Choose(node.id, node.default, "")
    return Fail(node.id, arrived_from, NO_CHOICE_MATCHED, NO_MATCH)


KIND = ExclusiveKind()
