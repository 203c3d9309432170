"""A parallel gateway: forks to every target; with several predecessors it joins first.

JSON ``{"type": "parallel_gateway", "next": [...]}``; YAML ``type: parallel`` with
`branches`, which the YAML reader compiles to a fork node and a join node (`p.join`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import GATEWAY_SIZE, BpmnElement
from processes.dsl.graph import Graph, Node
from processes.engine.plan import End, Join, Wait
from processes.nodes.base import Names, PassingKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk


class ParallelKind(PassingKind):
    type = "parallel"
    json_type = "parallel_gateway"
    yaml_type = "parallel"
    fields = ("next",)
    bpmn = BpmnElement("parallelGateway", *GATEWAY_SIZE)
    joins = True

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {"next": tuple(link(target, path) for target, path in next_names)}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return place.read_parallel(state)

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        if walk.graph.is_join(node.id):
            joined = _arrive(walk.graph, node.id, arrived_from, walk.arrivals(node.id))
            walk.emit(joined)
            if isinstance(joined, Wait):
                return
        if node.next:
            for target in node.next:
                walk.go(target, node.id)
        else:
            walk.emit(End(node.id))

    def forks(self, graph: Graph, node: Node) -> bool:
        return not graph.is_join(node.id)


def gateway_node(node_id: str, targets: tuple[str, ...]) -> Node:
    """A fork or join named `node_id` going on to `targets`."""
    return Node(id=node_id, name=node_id, type=KIND.type, next=targets)


def _arrive(graph: Graph, node_id: str, arrived_from: str, waiting: Counter) -> Join | Wait:
    others = [p for p in graph.predecessors(node_id) if p != arrived_from]
    if all(waiting[p] > 0 for p in others):
        for p in others:
            waiting[p] -= 1
        return Join(node_id, arrived_from, tuple(others))
    waiting[arrived_from] += 1
    return Wait(node_id, arrived_from)


KIND = ParallelKind()
