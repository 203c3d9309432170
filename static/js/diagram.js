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
  const FIT_MARGIN = 0.8;
  const MARKERS = { waiting: "fd-waiting", failed: "fd-failed", passed: "fd-passed", flows: "fd-taken", clickable: "fd-clickable" };

  function showStep(elementId) {
    section.querySelectorAll("[data-step-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.stepPanel !== elementId;
    });
    section.querySelectorAll("[data-step-button]").forEach(function (button) {
      button.setAttribute("aria-expanded", String(button.dataset.stepButton === elementId));
    });
  }

  function fit(canvas) {
    // A margin keeps the bpmn.io mark, in the frame's corner, clear of the drawing.
    canvas.zoom("fit-viewport", "auto");
    canvas.zoom(canvas.zoom() * FIT_MARGIN, "auto");
  }

  viewer.importXML(xml).then(function (result) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    fit(canvas);
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

  // The viewer moves only with Ctrl+arrows and has no zoom keys: plain keys do both here.
  const STEP = 1.2;
  const MOVES = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  canvasElement.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const canvas = viewer.get("canvas");
    const move = MOVES[event.key];
    if (move) {
      const speed = event.shiftKey ? 200 : 50;
      canvas.scroll({ dx: move[0] * speed, dy: move[1] * speed });
    } else if (event.key === "+" || event.key === "=") canvas.zoom(canvas.zoom() * STEP, "auto");
    else if (event.key === "-" || event.key === "_") canvas.zoom(canvas.zoom() / STEP, "auto");
    else if (event.key === "0") fit(canvas);
    else return;
    event.preventDefault();
  });
})();
