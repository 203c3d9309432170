"""The BPMN 2.0 export of a definition version: every step and flow of the graph, with
diagram interchange laid out left to right, and user data escaped."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from processes.bpmn.elements import BpmnElement
from processes.bpmn.export import BPMN, graph_bpmn
from processes.nodes import KINDS
from processes.nodes.base import PassingKind
from processes.nodes.fail import FailKind
from tests.bpmn.bpmn_xml import Document, graph_flows
from tests.bpmn.graphs import (
    EXAMPLES,
    HOSTILE_ID,
    HOSTILE_NAME,
    every_kind,
    example_graph,
    hostile,
    with_loop,
)

GRAPHS = {
    **{path.name: (lambda path=path: example_graph(path)) for path in EXAMPLES},
    "every kind": every_kind,
    "a loop": with_loop,
    "hostile names": hostile,
}
ACYCLIC = [name for name in GRAPHS if name != "a loop"]
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


@pytest.mark.parametrize("name", GRAPHS)
def test_export__every_step_and_flow_is_drawn(name):
    graph = GRAPHS[name]()
    document = Document.parse(graph_bpmn(graph))

    steps = [
        e.get("{https://flowdesk.dev/schema/bpmn}stepId") for e in document.flow_nodes().values()
    ]
    assert sorted(s for s in steps if s) == sorted(graph.nodes)
    assert document.step_flows() == graph_flows(graph)

    bounds, waypoints = document.bounds(), document.waypoints()
    assert set(bounds) == set(document.flow_nodes())
    assert {f.get("id") for f in document.sequence_flows()} == set(waypoints)
    for points in waypoints.values():
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in pairwise(points):
            assert x1 == x2 or y1 == y2, "edges run across and down only"


@pytest.mark.parametrize("name", ACYCLIC)
def test_layout__left_to_right(name):
    document = Document.parse(graph_bpmn(GRAPHS[name]()))
    bounds = document.bounds()
    for flow in document.sequence_flows():
        source = document.flow_nodes()[flow.get("sourceRef")]
        source_id = source.get("attachedToRef") or source.get("id")
        assert bounds[flow.get("targetRef")]["x"] > bounds[source_id]["x"], flow.get("id")


def test_layout__nodes_do_not_overlap():
    document = Document.parse(graph_bpmn(every_kind()))
    boxes = [
        b
        for element_id, b in document.bounds().items()
        if not document.flow_nodes()[element_id].get("attachedToRef")
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)


def test_export__each_kind_is_its_bpmn_element():
    document = Document.parse(graph_bpmn(every_kind()))
    tags = {
        e.get("{https://flowdesk.dev/schema/bpmn}stepId"): e.tag.removeprefix(f"{{{BPMN}}}")
        for e in document.flow_nodes().values()
    }
    assert tags == {
        None: "boundaryEvent",  # the start event and boundary events draw no step
        "charge": "serviceTask",
        "review": "userTask",
        "route": "exclusiveGateway",
        "fork": "parallelGateway",
        "pack": "serviceTask",
        "bill": "userTask",
        "join": "parallelGateway",
        "done": "endEvent",
        "declined": "endEvent",
        "broken": "endEvent",
    }
    nodes = document.flow_nodes()
    assert nodes["StartEvent_1"].tag == f"{{{BPMN}}}startEvent"
    boundaries = [e for e in nodes.values() if e.get("attachedToRef") == "Step_charge"]
    assert len(boundaries) == 2


def test_export__conditions_default_and_errors():
    document = Document.parse(graph_bpmn(every_kind()))
    flows = {f.get("id"): f for f in document.sequence_flows()}
    gateway = document.flow_nodes()["Step_route"]
    default = flows[gateway.get("default")]
    assert default.get("targetRef") == "Step_done"
    conditional = [
        f for f in flows.values() if f.find(f"{{{BPMN}}}conditionExpression") is not None
    ]
    assert [(f.get("sourceRef"), f.get("targetRef")) for f in conditional] == [
        ("Step_route", "Step_fork")
    ]
    assert conditional[0].find(f"{{{BPMN}}}conditionExpression").text == "${total > 100}"

    errors = {e.get("id"): e.get("errorCode") for e in document.root.findall(f"{{{BPMN}}}error")}
    assert sorted(errors.values()) == ["CardDeclined", "PaymentBroken"]
    fail = document.flow_nodes()["Step_broken"].find(f"{{{BPMN}}}errorEventDefinition")
    assert errors[fail.get("errorRef")] == "PaymentBroken"
    by_name = {f.get("name"): document.flow_nodes()[f.get("sourceRef")] for f in flows.values()}
    declined = by_name["CardDeclined"].find(f"{{{BPMN}}}errorEventDefinition")
    assert errors[declined.get("errorRef")] == "CardDeclined"
    anything = by_name["any error"].find(f"{{{BPMN}}}errorEventDefinition")
    assert anything.get("errorRef") is None  # catches every error


def test_export__hostile_names_and_ids_are_escaped():
    xml = graph_bpmn(hostile())
    assert "<script>" not in xml
    document = Document.parse(xml)  # well-formed, control bytes and all
    nodes = document.flow_nodes()
    assert all(NCNAME.match(element_id) for element_id in nodes)
    assert len({*nodes, *(f.get("id") for f in document.sequence_flows())}) == len(nodes) + len(
        document.sequence_flows()
    )
    by_step = {e.get("{https://flowdesk.dev/schema/bpmn}stepId"): e for e in nodes.values()}
    assert by_step[HOSTILE_ID].get("name") == HOSTILE_NAME.replace("\x01", "\ufffd")
    assert by_step["1st"].get("name") == "x" * 500
    assert by_step["1st"].get("id") != by_step["a_b"].get("id")


def test_export__the_same_graph_gives_the_same_document():
    assert graph_bpmn(every_kind()) == graph_bpmn(every_kind())


def test_elements__a_kind_without_an_element_stops_the_import():
    assert all(isinstance(kind.bpmn, BpmnElement) for kind in KINDS.values())
    parts = ("type", "json_type", "yaml_type", "fields", "read_json", "read_yaml", "walk")
    with pytest.raises(TypeError, match="bpmn"):
        type("Pictureless", (PassingKind,), {part: getattr(FailKind, part) for part in parts})
