"""The BPMN picture of a graph as plain data: one shape per step (plus the start event, the
error boundary events of catch routes and the boundary events of steps) and one
sequence flow per way between them.

Element ids are XML NCNames made deterministically from step ids, which may hold any
character; the export keeps the step id itself beside each element. The instance diagram
uses the same ids to mark where an instance is and where it went.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from processes.bpmn.elements import (
    BOUNDARY_EVENTS,
    ERROR_BOUNDARY_EVENT,
    START_EVENT,
    BpmnElement,
)
from processes.dsl.graph import ALL_ERRORS, Graph
from processes.nodes import node_kind
from processes.nodes.timer import wait_expressions

START_ID = "StartEvent_1"
_NOT_NCNAME = re.compile(r"[^A-Za-z0-9._-]")
_MAX_ID_PART = 60


@dataclass(frozen=True)
class Shape:
    id: str
    element: BpmnElement
    name: str
    step_id: str = ""  # empty for the start event
    attached_to: str = ""  # a boundary event's step shape id
    errors: tuple[str, ...] = ()  # the errors a boundary event catches
    expressions: tuple[tuple[str, str], ...] = ()  # a boundary timer's (tag, expression)
    cancels: bool = True  # a boundary event interrupts its step (BPMN cancelActivity)


@dataclass(frozen=True)
class Flow:
    """A sequence flow. `from_step`/`to_step` are graph step ids ("" for the start event);
    `source`/`target` are shape ids (a catch flow leaves from its boundary event)."""

    id: str
    source: str
    target: str
    from_step: str
    to_step: str
    condition: str | None = None
    is_default: bool = False
    caught: tuple[str, ...] = ()  # a catch route: the errors it handles
    boundary: bool = False  # leaves from a boundary event of the step (a timer's), not the step

    @property
    def name(self) -> str:
        """A condition's expression, or the errors a catch route handles."""
        if self.caught:
            return ", ".join("any error" if e == ALL_ERRORS else e for e in self.caught)
        return self.condition or ""


@dataclass
class Picture:
    graph: Graph
    shapes: dict[str, Shape] = field(default_factory=dict)  # by shape id, in drawing order
    flows: list[Flow] = field(default_factory=list)
    step_shapes: dict[str, str] = field(default_factory=dict)  # step id -> shape id
    errors: dict[str, str] = field(default_factory=dict)  # error code -> error element id

    def shape_of(self, step_id: str) -> Shape:
        return self.shapes[self.step_shapes[step_id]]


def graph_picture(graph: Graph) -> Picture:
    """Every step of `graph` as a shape and every way on from a step as a flow."""
    picture = Picture(graph)
    picture.shapes[START_ID] = Shape(START_ID, START_EVENT, "Start")
    picture.step_shapes = ncnames("Step_", graph.nodes)
    picture.errors = ncnames("Error_", _error_codes(graph))
    for node in graph.nodes.values():
        shape_id = picture.step_shapes[node.id]
        picture.shapes[shape_id] = Shape(
            shape_id, node_kind(node).bpmn_element(node), node.name, node.id
        )
    flows = _Flows(picture)
    flows.add(START_ID, "", graph.start)
    for node in graph.nodes.values():
        source = picture.step_shapes[node.id]
        for target in dict.fromkeys(node.next):
            flows.add(source, node.id, target)
        for condition in node.conditions:
            flows.add(source, node.id, condition.next, condition=condition.expression)
        if node.default:
            flows.add(source, node.id, node.default, is_default=True)
        for number, rule in enumerate(node.catch, start=1):
            boundary = f"{source.replace('Step_', 'Catch_', 1)}_{number}"
            # Unnamed: its flow carries the errors' names, where a label has room.
            picture.shapes[boundary] = Shape(
                boundary,
                ERROR_BOUNDARY_EVENT,
                "",
                node.id,
                attached_to=source,
                errors=rule.error_equals,
            )
            flows.add(boundary, node.id, rule.next, caught=rule.error_equals)
        for number, event in enumerate(node.boundary, start=1):
            prefix = f"{event.type.capitalize()}_"
            boundary = f"{source.replace('Step_', prefix, 1)}_{number}"
            timer = event.type == "timer"
            picture.shapes[boundary] = Shape(
                boundary,
                BOUNDARY_EVENTS[event.type],
                "" if timer else event.message or event.signal,
                node.id,
                attached_to=source,
                expressions=tuple(wait_expressions(event, repeat=event.repeat).items())
                if timer
                else (),
                cancels=event.interrupting,
            )
            flows.add(boundary, node.id, event.next, boundary=True)
    return picture


class _Flows:
    def __init__(self, picture: Picture) -> None:
        self.picture = picture

    def add(self, source: str, from_step: str, to_step: str, **details) -> None:
        flows = self.picture.flows
        target = self.picture.step_shapes[to_step]
        flows.append(Flow(f"Flow_{len(flows) + 1}", source, target, from_step, to_step, **details))


def _error_codes(graph: Graph) -> list[str]:
    """The errors the picture names: those fail steps end with, and those a catch route
    handles by name (a route handling several, or any, refers to no single error)."""
    codes: dict[str, None] = {}
    for node in graph.nodes.values():
        code = node_kind(node).error_code(node)
        if code is not None:
            codes[code] = None
        for rule in node.catch:
            if len(rule.error_equals) == 1 and rule.error_equals[0] != ALL_ERRORS:
                codes[rule.error_equals[0]] = None
    return list(codes)


def ncnames(prefix: str, values: Iterable[str]) -> dict[str, str]:
    """`<prefix><value>` for each value, as distinct XML NCNames: characters an NCName may
    not hold are replaced, and a hash of the value is added when anything was replaced or
    cut, so that different values stay different."""
    found: dict[str, str] = {}
    used: set[str] = set()
    for value in values:
        part = _NOT_NCNAME.sub("_", value)[:_MAX_ID_PART]
        if part != value:
            part += "_" + hashlib.sha256(value.encode()).hexdigest()[:8]
        candidate, n = f"{prefix}{part}", 2
        while candidate in used:
            candidate, n = f"{prefix}{part}_{n}", n + 1
        used.add(candidate)
        found[value] = candidate
    return found
