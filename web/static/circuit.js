// Mail page: draws each circuit instance with the bpmn-js viewer and marks its done and current
// steps. Loaded as a file (the CSP forbids inline scripts); the viewer sets its few styles through
// the CSSOM, which the CSP allows.
(function () {
  "use strict";

  function ids(element, name) {
    return (element.getAttribute(name) || "").split(/\s+/).filter(Boolean);
  }

  function say(container, message) {
    var status = container.querySelector(".circuit-status");
    if (status) status.textContent = message;
  }

  function mark(viewer, container) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids(container, "data-done").forEach(function (id) {
      if (registry.get(id)) canvas.addMarker(id, "circuit-done");
    });
    // Current after done: a step redone after a return is both, and shows as current.
    ids(container, "data-current").forEach(function (id) {
      if (registry.get(id)) canvas.addMarker(id, "circuit-current");
    });
    canvas.zoom("fit-viewport", "auto");
  }

  function draw(container) {
    var url = container.getAttribute("data-bpmn-url");
    var target = container.querySelector(".circuit-canvas");
    if (!url || !target) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (xml) {
        var viewer = new window.BpmnJS({ container: target });
        return viewer.importXML(xml).then(function () { return viewer; });
      })
      .then(function (viewer) {
        mark(viewer, container);
        container.classList.add("circuit-ready");
        say(container, "");
      })
      .catch(function () {
        container.classList.add("circuit-failed");
        say(container, container.getAttribute("data-msg-failed") || "");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var diagrams = document.querySelectorAll(".circuit-diagram[data-bpmn-url]");
    if (!diagrams.length) return;
    if (typeof window.BpmnJS !== "function") {
      diagrams.forEach(function (container) {
        say(container, container.getAttribute("data-msg-unavailable") || "");
      });
      return;
    }
    diagrams.forEach(draw);
  });
})();
