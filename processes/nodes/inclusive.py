"""An inclusive gateway (OR): as a split, every branch whose condition holds is taken (the
default only when none holds); as a join (several incoming paths), it waits for every token
that can still reach it, and no longer.

JSON ``{"type": "inclusive_gateway", "config": {"conditions": [{expression, next}],
"default"?}}``; YAML ``type: inclusive`` with ``choices: [{condition, next}]`` and
`default`, as a `choice`. A lone `next` is taken as the default, so a join that only merges
is written with a `next` and no conditions.

The join: when a token arrives, it fires if no other token of the instance can reach the
gateway without passing through it (one resting at a step upstream, failed there, waiting at
another join upstream, or on its way in the same walk); it then consumes one waiting token
per path that arrived. Otherwise the token waits there. A token that moves elsewhere may
release a waiting join: the engine asks `release` after each change of an instance with
OR-joins (`processes.services.advance`), under the instance lock, so it fires once.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import GATEWAY_SIZE, BpmnElement
from processes.dsl.graph import Graph, Node
from processes.dsl.parts import exclusive_default, read_conditions
from processes.engine.expressions import ExpressionError, condition
from processes.engine.plan import EXPRESSION_ERROR, NO_CHOICE_MATCHED, Choose, Fail, Join, Wait
from processes.nodes.base import Names, PassingKind, YamlPlace
from processes.nodes.exclusive import NO_MATCH

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk

GATEWAY = "an inclusive gateway"


class InclusiveKind(PassingKind):
    type = "inclusive"
    json_type = "inclusive_gateway"
    yaml_type = "inclusive"
    fields = ("conditions", "default")
    bpmn = BpmnElement("inclusiveGateway", *GATEWAY_SIZE)
    joins = True
    joins_reachable = True

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        default = config.text("default")
        return _checked(
            step,
            written=config.has("conditions"),
            conditions=read_conditions(
                config,
                "conditions",
                expression_key="expression",
                link=link,
                gateway=GATEWAY,
                required=False,
            ),
            default=exclusive_default(
                step,
                next_names,
                (default, config.at("default")) if default else None,
                link,
                gateway=GATEWAY,
            ),
        )

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        default = state.text("default")
        return _checked(
            state,
            written=state.has("choices"),
            conditions=read_conditions(
                state,
                "choices",
                expression_key="condition",
                link=place.link,
                gateway=GATEWAY,
                required=False,
            ),
            default=exclusive_default(
                state,
                state.names("next", single=True),
                (default, state.at("default")) if default else None,
                place.link,
                gateway=GATEWAY,
            ),
        )

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        if walk.graph.is_join(node.id):
            arrivals = walk.arrivals(node.id)
            if walk.can_still_arrive(node.id):
                arrivals[arrived_from] += 1
                walk.emit(Wait(node.id, arrived_from))
                return
            others = _consume(walk.graph, node.id, arrivals, besides=arrived_from)
            walk.emit(Join(node.id, arrived_from, others))
        _split(node, arrived_from, walk)

    def release(self, node: Node, walk: Walk) -> None:
        arrivals = walk.arrivals(node.id)
        if not arrivals.total() or walk.can_still_arrive(node.id):
            return
        consumed = _consume(walk.graph, node.id, arrivals)
        walk.emit(Join(node.id, "", consumed))
        # A failure on the way out is retried as an arrival from the first path.
        _split(node, consumed[0], walk)


def _checked(step: Section, *, written: bool, conditions, default: str) -> dict[str, Any]:
    """A gateway with no way on at all is a problem (broken conditions are reported
    already, where they are written)."""
    if not written and not default:
        step.problems.add(
            step.path,
            f"{GATEWAY} needs conditions, a 'default' or a 'next' to go on to",
            step=step.step,
        )
    return {"conditions": conditions, "default": default}


def _consume(
    graph: Graph, node_id: str, arrivals: Counter, *, besides: str = ""
) -> tuple[str, ...]:
    """One waiting token of each path that arrived (but `besides`, the arriving one's)."""
    consumed = tuple(p for p in graph.predecessors(node_id) if p != besides and arrivals[p] > 0)
    for predecessor in consumed:
        arrivals[predecessor] -= 1
    return consumed


def _split(node: Node, arrived_from: str, walk: Walk) -> None:
    """Every branch whose condition holds, all evaluated first (a bad one sends none), or
    the default when none holds."""
    taken = []
    for branch in node.conditions:
        try:
            if condition(branch.expression, walk.variables):
                taken.append((branch.next, branch.expression))
        except ExpressionError as exc:
            walk.emit(Fail(node.id, arrived_from, EXPRESSION_ERROR, str(exc)))
            return
    if not taken and node.default:
        taken.append((node.default, ""))
    if not taken:
        walk.emit(Fail(node.id, arrived_from, NO_CHOICE_MATCHED, NO_MATCH))
        return
    for target, expression in taken:
        walk.emit(Choose(node.id, target, expression))
    for target in dict.fromkeys(target for target, _ in taken):
        walk.go(target, node.id)


KIND = InclusiveKind()
