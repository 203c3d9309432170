"""Reading an exported BPMN document back, for the tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from processes.bpmn.export import BPMN, BPMNDI, DC, DI, FLOWDESK
from processes.dsl.graph import Graph

STEP_ID = f"{{{FLOWDESK}}}stepId"
NOT_FLOW_NODES = {"sequenceFlow", "documentation"}


@dataclass
class Document:
    root: ET.Element
    process: ET.Element

    @classmethod
    def parse(cls, xml: str) -> Document:
        root = ET.fromstring(xml)  # noqa: S314  (the export's own output)
        return cls(root, root.find(f"{{{BPMN}}}process"))

    def flow_nodes(self) -> dict[str, ET.Element]:
        return {
            e.get("id"): e
            for e in self.process
            if e.tag.removeprefix(f"{{{BPMN}}}") not in NOT_FLOW_NODES
        }

    def sequence_flows(self) -> list[ET.Element]:
        return self.process.findall(f"{{{BPMN}}}sequenceFlow")

    def step_of(self, element_id: str) -> str:
        """The step an element draws ("" for the start event); a boundary event's is its
        step's."""
        element = self.flow_nodes()[element_id]
        if element.get("attachedToRef"):
            return self.step_of(element.get("attachedToRef"))
        return element.get(STEP_ID, "")

    def step_flows(self) -> Counter:
        return Counter(
            (self.step_of(f.get("sourceRef")), self.step_of(f.get("targetRef")))
            for f in self.sequence_flows()
        )

    def bounds(self) -> dict[str, dict[str, float]]:
        return {
            shape.get("bpmnElement"): {
                k: float(v) for k, v in shape.find(f"{{{DC}}}Bounds").attrib.items()
            }
            for shape in self.root.iter(f"{{{BPMNDI}}}BPMNShape")
        }

    def waypoints(self) -> dict[str, list[tuple[float, float]]]:
        return {
            edge.get("bpmnElement"): [
                (float(p.get("x")), float(p.get("y"))) for p in edge.findall(f"{{{DI}}}waypoint")
            ]
            for edge in self.root.iter(f"{{{BPMNDI}}}BPMNEdge")
        }


def graph_flows(graph: Graph) -> Counter:
    """Every way on from every step, as (from step, to step), with the start's."""
    flows: Counter = Counter({("", graph.start): 1})
    for node in graph.nodes.values():
        targets = [
            *dict.fromkeys(node.next),
            *(c.next for c in node.conditions),
            *([node.default] if node.default else []),
            *(c.next for c in node.catch),
            *(b.next for b in node.boundary),
        ]
        flows.update((node.id, target) for target in targets)
    return flows
