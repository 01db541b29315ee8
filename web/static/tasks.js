// Task completion form: show only the inputs the chosen outcome asks for.
// Loaded as a file (the CSP forbids inline scripts). Without it every input stays visible,
// each labelled with the outcomes it serves, and the server ignores those of other outcomes.
(function () {
  "use strict";

  function setup(form) {
    var radios = Array.prototype.slice.call(form.querySelectorAll("input[name='outcome']"));
    var fields = Array.prototype.slice.call(form.querySelectorAll(".task-field[data-outcomes]"));
    if (!radios.length || !fields.length) return;

    function refresh() {
      var chosen = radios.filter(function (r) { return r.checked; })[0];
      fields.forEach(function (field) {
        var wanted = field.getAttribute("data-outcomes").split(" ");
        field.hidden = !chosen || wanted.indexOf(chosen.value) < 0;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", refresh); });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.slice.call(document.querySelectorAll("form.task-form")).forEach(setup);
  });
})();
