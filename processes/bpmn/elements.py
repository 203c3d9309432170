"""BPMN 2.0 elements and their sizes.

Each node kind carries its own element (`processes.nodes`, `NodeKind.bpmn`); a kind
without one stops the import, so a new kind cannot ship without a picture. Here are the
elements that are not node kinds.
"""

from __future__ import annotations

from dataclasses import dataclass


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

# Not node kinds: the event every picture starts with, a service step's catch route (an
# error boundary event on the step, flowing to the step that handles the error), and a
# step's boundary events (a timer, message or signal boundary event, flowing to its `next`).
START_EVENT = BpmnElement("startEvent", *EVENT_SIZE)
ERROR_BOUNDARY_EVENT = BpmnElement(
    "boundaryEvent", *EVENT_SIZE, event_definition="errorEventDefinition"
)
BOUNDARY_EVENTS = {
    kind: BpmnElement("boundaryEvent", *EVENT_SIZE, event_definition=f"{kind}EventDefinition")
    for kind in ("timer", "message", "signal")
}
