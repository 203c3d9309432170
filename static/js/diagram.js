/* Draws the BPMN diagram of templates/processes/diagram.html with the vendored bpmn-js
 * viewer: fitted to its frame, moved and zoomed with mouse, touch and keyboard; with an
 * instance on it, its state as markers, and a click on a step shows that step's work. */
(function () {
  "use strict";
  const section = document.querySelector("[data-diagram]");
  if (!section || typeof BpmnJS === "undefined") return;
  const canvasElement = section.querySelector("[data-canvas]");
  const xml = JSON.parse(document.getElementById("diagram-bpmn").textContent);
  const state = JSON.parse(document.getElementById("diagram-state").textContent);
  const viewer = new BpmnJS({ container: canvasElement });
  const MARKERS = { waiting: "fd-waiting", failed: "fd-failed", passed: "fd-passed", flows: "fd-taken", clickable: "fd-clickable" };

  function showStep(elementId) {
    section.querySelectorAll("[data-step-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.stepPanel !== elementId;
    });
    section.querySelectorAll("[data-step-button]").forEach(function (button) {
      button.setAttribute("aria-expanded", String(button.dataset.stepButton === elementId));
    });
  }

  viewer.importXML(xml).then(function (result) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    if (state) {
      Object.keys(MARKERS).forEach(function (key) {
        (state[key] || []).forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, MARKERS[key]);
        });
      });
    }
    section.dataset.ready = result.warnings.length ? "warnings" : "yes";
  }).catch(function (error) {
    section.dataset.ready = "error";
    canvasElement.textContent = "The diagram could not be drawn: " + error.message;
  });

  viewer.get("eventBus").on("element.click", function (event) {
    const id = event.element.id;
    if (state && (state.clickable || []).indexOf(id) >= 0) showStep(id);
  });
  section.querySelectorAll("[data-step-button]").forEach(function (button) {
    button.addEventListener("click", function () { showStep(button.dataset.stepButton); });
  });

  // Arrow keys come with the viewer (on its focusable canvas); zoom keys do not.
  const STEP = 1.2;
  canvasElement.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const canvas = viewer.get("canvas");
    if (event.key === "+" || event.key === "=") canvas.zoom(canvas.zoom() * STEP, "auto");
    else if (event.key === "-" || event.key === "_") canvas.zoom(canvas.zoom() / STEP, "auto");
    else if (event.key === "0") canvas.zoom("fit-viewport", "auto");
    else return;
    event.preventDefault();
  });
})();
