"""A definition version as BPMN 2.0 XML with diagram interchange (shapes, edges, waypoints).

    xml = graph_bpmn(graph, definition_key="expense-approval")

Every step keeps its own id in `flowdesk:stepId` (element ids are NCNames made from it).
Names are user data: ElementTree escapes them, and characters XML cannot hold at all
become U+FFFD.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from processes.bpmn.layout import Box, Edge, Layout, layered_layout
from processes.bpmn.layout import Node as LayoutNode
from processes.bpmn.model import Flow, Picture, Shape, graph_picture, ncnames
from processes.dsl.graph import ALL_ERRORS, Graph, Node
from processes.nodes import node_kind

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FLOWDESK = "https://flowdesk.dev/schema/bpmn"
NAMESPACES = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "flowdesk": FLOWDESK}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)

# Characters outside XML 1.0's Char production (most C0 controls, lone surrogates, FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
BOUNDARY_SPACING = 40
LABEL_WIDTH, LABEL_HEIGHT = 90, 27  # bpmn-js wraps external labels at 90 px


def graph_bpmn(graph: Graph, *, definition_key: str = "") -> str:
    """The BPMN 2.0 XML of `graph`, laid out left to right."""
    picture = graph_picture(graph)
    key = definition_key or graph.key
    process_id = ncnames("Process_", [key])[key]
    root = ET.Element(
        _q(BPMN, "definitions"),
        {
            "id": "Definitions_1",
            "targetNamespace": FLOWDESK,
            "exporter": "Flowdesk",
            "exporterVersion": "1",
        },
    )
    for code, error_id in picture.errors.items():
        ET.SubElement(root, _q(BPMN, "error"), _attrs(id=error_id, name=code, errorCode=code))
    process = ET.SubElement(
        root, _q(BPMN, "process"), _attrs(id=process_id, name=graph.name, isExecutable="false")
    )
    process.set(_q(FLOWDESK, "key"), _text(key))
    if graph.description:
        ET.SubElement(process, _q(BPMN, "documentation")).text = _text(graph.description)
    for shape in picture.shapes.values():
        _flow_node(process, picture, shape)
    for flow in picture.flows:
        _sequence_flow(process, flow)
    _diagram(root, picture, process_id)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _flow_node(process: ET.Element, picture: Picture, shape: Shape) -> None:
    element = ET.SubElement(
        process, _q(BPMN, shape.element.tag), _attrs(id=shape.id, name=shape.name)
    )
    if shape.attached_to:
        element.set("attachedToRef", shape.attached_to)
        if not shape.cancels:
            element.set("cancelActivity", "false")
    elif shape.step_id:
        element.set(_q(FLOWDESK, "stepId"), _text(shape.step_id))
    for flow in picture.flows:
        if flow.target == shape.id:
            ET.SubElement(element, _q(BPMN, "incoming")).text = flow.id
    for flow in picture.flows:
        if flow.source == shape.id:
            ET.SubElement(element, _q(BPMN, "outgoing")).text = flow.id
            if flow.is_default:
                element.set("default", flow.id)
    if shape.step_id and not shape.attached_to:
        _loop_characteristics(element, picture.graph.node(shape.step_id))
    if shape.element.event_definition:
        definition = ET.SubElement(element, _q(BPMN, shape.element.event_definition))
        code = _error_of(picture, shape)
        if code is not None:
            definition.set("errorRef", picture.errors[code])
        if shape.attached_to:
            expressions = dict(shape.expressions)
        else:
            node = picture.graph.node(shape.step_id)
            expressions = node_kind(node).bpmn_expressions(node)
        for tag, text in expressions.items():
            expression = ET.SubElement(definition, _q(BPMN, tag))
            expression.set(_q(XSI, "type"), "bpmn:tFormalExpression")
            expression.text = _text(text)


def _loop_characteristics(element: ET.Element, node: Node) -> None:
    """A for-each step is a multi-instance activity: sequential when one item runs at a
    time; its list and item variable as Flowdesk attributes, as Camunda writes its own."""
    for_each = node.for_each
    if for_each is None:
        return
    loop = ET.SubElement(
        element,
        _q(BPMN, "multiInstanceLoopCharacteristics"),
        _attrs(isSequential="true" if for_each.max_concurrency == 1 else "false"),
    )
    loop.set(_q(FLOWDESK, "collection"), _text(for_each.items))
    loop.set(_q(FLOWDESK, "elementVariable"), _text(for_each.as_name))
    if for_each.complete_when:
        condition = ET.SubElement(loop, _q(BPMN, "completionCondition"))
        condition.set(_q(XSI, "type"), "bpmn:tFormalExpression")
        condition.text = _text(for_each.complete_when)


def _error_of(picture: Picture, shape: Shape) -> str | None:
    if shape.attached_to:
        named = [e for e in shape.errors if e != ALL_ERRORS]
        return named[0] if len(shape.errors) == 1 and named else None
    node = picture.graph.node(shape.step_id)
    return node_kind(node).error_code(node)


def _sequence_flow(process: ET.Element, flow: Flow) -> None:
    element = ET.SubElement(
        process,
        _q(BPMN, "sequenceFlow"),
        _attrs(id=flow.id, name=flow.name, sourceRef=flow.source, targetRef=flow.target),
    )
    if flow.condition is not None:
        expression = ET.SubElement(element, _q(BPMN, "conditionExpression"))
        expression.set(_q(XSI, "type"), "bpmn:tFormalExpression")
        expression.text = _text(flow.condition)


def _diagram(root: ET.Element, picture: Picture, process_id: str) -> None:
    layout, boxes = _placed(picture)
    diagram = ET.SubElement(root, _q(BPMNDI, "BPMNDiagram"), {"id": "BPMNDiagram_1"})
    plane = ET.SubElement(
        diagram, _q(BPMNDI, "BPMNPlane"), {"id": "BPMNPlane_1", "bpmnElement": process_id}
    )
    for shape in picture.shapes.values():
        box = boxes[shape.id]
        attributes = {"id": f"{shape.id}_di", "bpmnElement": shape.id}
        if shape.element.tag == "exclusiveGateway":
            attributes["isMarkerVisible"] = "true"
        di = ET.SubElement(plane, _q(BPMNDI, "BPMNShape"), attributes)
        _bounds(di, box)
        if shape.name and shape.element.is_gateway:
            # Below and left of the diamond: forks leave and joins arrive at its corners.
            _label(di, Box(box.cx - 8 - LABEL_WIDTH, box.bottom + 2, LABEL_WIDTH, LABEL_HEIGHT))
    for flow in picture.flows:
        from_shape = picture.shapes[flow.source]
        source = from_shape.attached_to or flow.source
        start = boxes[flow.source] if from_shape.attached_to else None
        edge = ET.SubElement(
            plane, _q(BPMNDI, "BPMNEdge"), {"id": f"{flow.id}_di", "bpmnElement": flow.id}
        )
        points = layout.route(Edge(source, flow.target), start=start)
        for x, y in points:
            ET.SubElement(edge, _q(DI, "waypoint"), {"x": _n(x), "y": _n(y)})
        if flow.name:
            _label(edge, _flow_label(points))


def _flow_label(points: list[tuple[float, float]]) -> Box:
    """Centred above the last horizontal run (the one into the target)."""
    for (x1, y1), (x2, y2) in reversed(list(itertools.pairwise(points))):
        if abs(y1 - y2) < 0.5:
            x = (x1 + x2 - LABEL_WIDTH) / 2
            return Box(x, y1 - 4 - LABEL_HEIGHT, LABEL_WIDTH, LABEL_HEIGHT)
    (x, y) = points[-1]
    return Box(x + 6, y - LABEL_HEIGHT, LABEL_WIDTH, LABEL_HEIGHT)


def _bounds(parent: ET.Element, box: Box) -> None:
    ET.SubElement(
        parent,
        _q(DC, "Bounds"),
        {"x": _n(box.x), "y": _n(box.y), "width": _n(box.width), "height": _n(box.height)},
    )


def _label(parent: ET.Element, box: Box) -> None:
    _bounds(ET.SubElement(parent, _q(BPMNDI, "BPMNLabel")), box)


def _placed(picture: Picture) -> tuple[Layout, dict[str, Box]]:
    """The layout of the steps, and a box for every shape: boundary events sit on the
    bottom edge of their step, from its right corner leftwards."""
    nodes = [
        LayoutNode(s.id, s.element.width, s.element.height, corners=s.element.is_gateway)
        for s in picture.shapes.values()
        if not s.attached_to
    ]
    edges = [
        Edge(picture.shapes[f.source].attached_to or f.source, f.target) for f in picture.flows
    ]
    layout = layered_layout(nodes, edges)
    boxes = dict(layout.boxes)
    on_step: dict[str, int] = {}
    for shape in picture.shapes.values():
        if shape.attached_to:
            step = boxes[shape.attached_to]
            rank = on_step[shape.attached_to] = on_step.get(shape.attached_to, -1) + 1
            width, height = shape.element.width, shape.element.height
            cx = step.right - width / 2 - 8 - rank * BOUNDARY_SPACING
            boxes[shape.id] = Box(cx - width / 2, step.bottom - height / 2, width, height)
    return layout, boxes


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _attrs(**values: str) -> dict[str, str]:
    """Attributes with text cleaned for XML; empty ones left out."""
    return {name: _text(value) for name, value in values.items() if value}


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _n(value: float) -> str:
    return str(round(value))
