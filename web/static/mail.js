// Registration form: keyboard-friendly correspondent suggestions and direction-specific fields.
// Loaded as a file (the CSP forbids inline scripts); does nothing on pages without the form.
(function () {
  "use strict";

  function setupCorrespondent(form) {
    var input = form.querySelector("#correspondent");
    var hidden = form.querySelector("#correspondent_id");
    var box = form.querySelector("#correspondent-suggestions");
    if (!input || !hidden || !box) return;

    function options() {
      return Array.prototype.slice.call(box.querySelectorAll("[data-correspondent-id]"));
    }
    function close() {
      box.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
    }
    function choose(option) {
      input.value = option.getAttribute("data-correspondent-name");
      hidden.value = option.getAttribute("data-correspondent-id");
      close();
      input.focus();
    }

    // A typed name is a new or existing name looked up at registration, not the picked one.
    input.addEventListener("input", function () { hidden.value = ""; });
    input.addEventListener("keydown", function (event) {
      var list = options();
      if (event.key === "ArrowDown" && list.length) {
        event.preventDefault();
        list[0].focus();
      } else if (event.key === "Escape") {
        close();
      }
    });
    box.addEventListener("keydown", function (event) {
      var list = options();
      var index = list.indexOf(document.activeElement);
      if (index < 0) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        list[Math.min(index + 1, list.length - 1)].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (index === 0) input.focus(); else list[index - 1].focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
        input.focus();
      }
    });
    box.addEventListener("click", function (event) {
      var option = event.target.closest("[data-correspondent-id]");
      if (option) choose(option);
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target === box) {
        input.setAttribute("aria-expanded", options().length ? "true" : "false");
      }
    });
  }

  function setupDirection(form) {
    var select = form.querySelector("#direction");
    if (!select) return;
    var dateLabel = form.querySelector("label[for='mail_date']");
    // The words come from the page (data-label-*), in the page's language.
    var holder = form.querySelector("[data-mail-date]");
    var labels = {};
    ["incoming", "outgoing", "internal"].forEach(function (direction) {
      var word = holder && holder.getAttribute("data-label-" + direction);
      if (word) labels[direction] = word;
    });

    function update() {
      var direction = select.value;
      form.querySelectorAll("[data-show-for]").forEach(function (element) {
        var wanted = element.getAttribute("data-show-for").split(" ").indexOf(direction) >= 0;
        var filled = Array.prototype.some.call(element.querySelectorAll("input"), function (i) {
          return i.value !== "";
        });
        element.hidden = !wanted && !filled;
      });
      if (dateLabel && labels[direction]) dateLabel.textContent = labels[direction];
    }
    select.addEventListener("change", update);
    update();
  }

  function setup() {
    var form = document.getElementById("mail-form");
    if (!form) return;
    setupCorrespondent(form);
    setupDirection(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
