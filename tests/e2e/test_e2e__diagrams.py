"""The BPMN diagrams in Chromium: every example's export imports into the vendored bpmn-js
without a warning and draws every step and flow; the instance page marks where an instance
waits and where it failed, shows a step's work on a click, and pans and zooms by keyboard.
The page fixtures save screenshots of both pages at 1280 and 390 px wide."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from processes.services import definition_publish, instance_start
from tests.bpmn.bpmn_xml import graph_flows
from tests.bpmn.graphs import EXAMPLES, example_graph
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

# No default: an amount of 0 or less matches nothing and the instance fails at the check.
STRICT = {
    "name": "strict-check",
    "variables": {"amount": "number"},
    "steps": [
        {
            "id": "check",
            "name": "Positive amount?",
            "type": "exclusive_gateway",
            "config": {"conditions": [{"expression": "${amount > 0}", "next": "done"}]},
        },
        {"id": "done", "name": "Done", "type": "end"},
    ],
}

IMPORT_AGAIN = """async () => {
    const host = document.createElement("div");
    host.style.width = "800px"; host.style.height = "600px";
    document.body.appendChild(host);
    const viewer = new BpmnJS({container: host});
    const xml = JSON.parse(document.getElementById("diagram-bpmn").textContent);
    const result = await viewer.importXML(xml);
    const all = viewer.get("elementRegistry").getAll();
    // Roots have no parent: the process, and the plane bpmn-js opens for a collapsed
    // sub-process (a map step) to drill down into.
    const drawn = all.filter(e => e.type !== "label" && e.parent);
    return {
        warnings: result.warnings.map(w => w.message),
        shapes: drawn.filter(e => !e.waypoints).length,
        connections: drawn.filter(e => e.waypoints).length,
    };
}"""


def ready(page: Page) -> None:
    expect(page.locator("[data-diagram]")).to_have_attribute("data-ready", "yes")


def element(page: Page, element_id: str):
    return page.locator(f'.djs-element[data-element-id="{element_id}"]')


def test_diagrams__every_example_imports_without_warnings(page, live_server, people):
    log_in(page, live_server.url, "boss")
    for path in EXAMPLES:
        graph = example_graph(path)
        definition_publish(source=path.read_text(), format=path.suffix.lstrip("."))
        page.goto(f"{live_server.url}/definitions/{graph.key}/")
        ready(page)
        drawn = page.evaluate(IMPORT_AGAIN)
        assert drawn["warnings"] == [], path.name
        # + the start event, and a boundary event per catch route and per boundary event
        events = sum(len(node.catch) + len(node.boundary) for node in graph.nodes.values())
        assert drawn["shapes"] == len(graph.nodes) + 1 + events, path.name
        assert drawn["connections"] == sum(graph_flows(graph).values()), path.name


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_definition_page__the_diagram_fits_the_screen(
    request, viewport, live_server, people, expense
):
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "clerk")
    screen.goto(f"{live_server.url}/start/")
    screen.get_by_role("link", name="Diagram and versions of “Expense approval”").click()
    ready(screen)
    expect(screen.get_by_role("heading", name="Expense approval")).to_be_visible()
    expect(element(screen, "Step_manager_approval")).to_be_visible()
    expect(screen.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_instance_page__marks_the_waiting_step_and_shows_its_task(
    request, viewport, live_server, people, expense_task
):
    screen = request.getfixturevalue(viewport)
    log_in(screen, live_server.url, "boss")
    screen.goto(f"{live_server.url}/instances/{expense_task.instance_id}/")
    ready(screen)
    expect(element(screen, "Step_manager_approval")).to_have_class(
        "djs-element djs-shape fd-waiting fd-clickable"
    )
    expect(element(screen, "Step_check_amount")).to_have_class("djs-element djs-shape fd-passed")
    assert "fd-passed" not in (element(screen, "Step_auto_approve").get_attribute("class") or "")

    element(screen, "Step_manager_approval").click()
    panel = screen.locator('[data-step-panel="Step_manager_approval"]')
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name="Approve the expense")).to_have_attribute(
        "href", f"/tasks/{expense_task.pk}/"
    )
    assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_instance_page__a_failed_step_is_red(page, live_server, people):
    definition_publish(source=json.dumps(STRICT), format="json")
    instance = instance_start(
        definition_key="strict-check", variables={"amount": 0}, user=people["boss"]
    )
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/instances/{instance.pk}/")
    ready(page)
    expect(element(page, "Step_check")).to_have_class("djs-element djs-shape fd-failed")
    stroke = (
        element(page, "Step_check")
        .locator(".djs-visual > :first-child")
        .evaluate("shape => getComputedStyle(shape).stroke")
    )
    assert stroke == "rgb(180, 35, 24)"


def test_diagram__pans_and_zooms_with_the_keyboard(page, live_server, people, expense):
    log_in(page, live_server.url, "clerk")
    page.goto(f"{live_server.url}/definitions/expense-approval/")
    ready(page)
    viewport = page.locator("[data-canvas] svg .viewport")

    def transform() -> str:
        return viewport.get_attribute("transform")

    fitted = transform()
    page.locator("[data-canvas] svg").first.focus()
    page.keyboard.press("+")
    zoomed = transform()
    assert zoomed != fitted
    page.keyboard.press("ArrowLeft")
    expect(viewport).not_to_have_attribute("transform", zoomed)
    page.keyboard.press("0")
    expect(viewport).to_have_attribute("transform", fitted)
