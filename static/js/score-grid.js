// Keyboard-friendly score entry: Enter or ArrowDown moves to the cell below, ArrowUp above,
// Shift+Enter above. Tab keeps its usual left-to-right order.
(function () {
  "use strict";
  document.querySelectorAll("[data-score-grid]").forEach(function (table) {
    // After a refused save the page comes back with the errors: start at the first one.
    var invalid = table.querySelector('[aria-invalid="true"]');
    if (invalid) { invalid.focus(); if (invalid.select) invalid.select(); }
    table.addEventListener("keydown", function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("score-input")) return;
      var down = (event.key === "Enter" && !event.shiftKey) || event.key === "ArrowDown";
      var up = (event.key === "Enter" && event.shiftKey) || event.key === "ArrowUp";
      if (!down && !up) return;
      event.preventDefault();
      var column = input.getAttribute("data-col");
      var cells = Array.prototype.slice.call(
        table.querySelectorAll('.score-input[data-col="' + column + '"]')
      );
      var next = cells[cells.indexOf(input) + (down ? 1 : -1)];
      if (next) { next.focus(); next.select(); }
      else if (down) { var save = table.closest("form").querySelector("button[type=submit]"); if (save) save.focus(); }
    });
  });
})();
