"""Which BPMN 2.0 element draws each node kind: the one place that knows it.

Keyed by NodeType; a kind without an element stops the import, so a new kind cannot ship
without a picture. (When node kinds become modules under processes/nodes/, each carries its
own entry of this table.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from processes.dsl.graph import NodeType


@dataclass(frozen=True)
class BpmnElement:
    """A BPMN flow node: its tag in the BPMN model namespace and its default size."""

    tag: str
    width: int
    height: int
    event_definition: str = ""  # e.g. errorEventDefinition inside an event

    @property
    def is_gateway(self) -> bool:
        return self.tag.endswith("Gateway")


TASK_SIZE = (100, 80)
GATEWAY_SIZE = (50, 50)
EVENT_SIZE = (36, 36)

BPMN_ELEMENTS: Mapping[NodeType, BpmnElement] = {
    NodeType.SERVICE: BpmnElement("serviceTask", *TASK_SIZE),
    NodeType.USER: BpmnElement("userTask", *TASK_SIZE),
    NodeType.EXCLUSIVE: BpmnElement("exclusiveGateway", *GATEWAY_SIZE),
    NodeType.PARALLEL: BpmnElement("parallelGateway", *GATEWAY_SIZE),
    NodeType.END: BpmnElement("endEvent", *EVENT_SIZE),
    NodeType.FAIL: BpmnElement("endEvent", *EVENT_SIZE, event_definition="errorEventDefinition"),
}

# Not node kinds: the event every picture starts with, and a service step's catch route
# (an error boundary event on the step, flowing to the step that handles the error).
START_EVENT = BpmnElement("startEvent", *EVENT_SIZE)
ERROR_BOUNDARY_EVENT = BpmnElement(
    "boundaryEvent", *EVENT_SIZE, event_definition="errorEventDefinition"
)


def elements_complete(elements: Mapping[NodeType, BpmnElement], kinds: Iterable[NodeType]) -> None:
    """Raise unless every kind has an element."""
    missing = [kind.value for kind in kinds if kind not in elements]
    if missing:
        raise LookupError(f"no BPMN element for node kind(s) {', '.join(missing)}")


elements_complete(BPMN_ELEMENTS, NodeType)
