// The standard picker (assessments/widgets.py): a search box that filters the grouped
// checkboxes as one types, a live count and removable chips of the chosen standards, and arrow
// keys between the options shown. Without this script every checkbox shows and works the same.
(function () {
  "use strict";

  function setUp(picker) {
    var tools = picker.querySelector("[data-picker-tools]");
    var search = picker.querySelector("[data-picker-search]");
    var shown = picker.querySelector("[data-picker-shown]");
    var count = picker.querySelector("[data-picker-count]");
    var chips = picker.querySelector("[data-picker-chips]");
    var none = picker.querySelector("[data-picker-none]");
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-group]"));
    var options = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-option]"));
    var boxes = options.map(function (option) {
      return option.querySelector("input[type=checkbox]");
    });
    var announcing = null;

    function visibleBoxes() {
      return boxes.filter(function (box) { return !box.parentNode.hidden; });
    }

    function filter() {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var matching = 0;
      options.forEach(function (option) {
        var text = option.getAttribute("data-search") || "";
        var matches = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !matches;
        if (matches) matching += 1;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-picker-option]:not([hidden])");
      });
      none.hidden = matching > 0 || options.length === 0;
      // Said once typing pauses, not at every key.
      clearTimeout(announcing);
      announcing = setTimeout(function () {
        shown.textContent = words.length
          ? matching + " of " + options.length + " standards match “" + search.value.trim() + "”."
          : "";
      }, 500);
    }

    function chip(box) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      var hint = document.createElement("span");
      var cross = document.createElement("span");
      button.type = "button";
      button.className = "picker-chip";
      button.setAttribute("data-remove", box.id);
      hint.className = "visually-hidden";
      hint.textContent = "Remove ";
      cross.setAttribute("aria-hidden", "true");
      cross.textContent = " ×";
      button.appendChild(hint);
      button.appendChild(document.createTextNode(box.getAttribute("data-code") || box.value));
      button.appendChild(cross);
      item.appendChild(button);
      return item;
    }

    function showSelected() {
      var selected = boxes.filter(function (box) { return box.checked; });
      count.textContent = selected.length + " selected";
      chips.textContent = "";
      selected.forEach(function (box) { chips.appendChild(chip(box)); });
      chips.hidden = selected.length === 0;
    }

    chips.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove]");
      if (!button) return;
      var buttons = Array.prototype.slice.call(chips.querySelectorAll("[data-remove]"));
      var at = buttons.indexOf(button);
      document.getElementById(button.getAttribute("data-remove")).checked = false;
      showSelected();
      // Keep the keyboard where it was: on the next chip, else the last, else the search box.
      var left = chips.querySelectorAll("[data-remove]");
      (left[Math.min(at, left.length - 1)] || search).focus();
    });

    picker.addEventListener("change", function (event) {
      if (boxes.indexOf(event.target) !== -1) showSelected();
    });

    search.addEventListener("input", filter);

    picker.addEventListener("keydown", function (event) {
      var target = event.target;
      var visible = visibleBoxes();
      var next = null;
      if (target === search) {
        if (event.key === "Escape" && search.value) {
          event.preventDefault();
          search.value = "";
          filter();
        } else if (event.key === "ArrowDown" || event.key === "Enter") {
          // Enter would submit the whole form from here: it moves to the options instead.
          event.preventDefault();
          next = visible[0] || null;
        }
        if (next) next.focus();
        return;
      }
      var at = visible.indexOf(target);
      if (at === -1) return;
      if (event.key === "ArrowDown") next = visible[at + 1];
      else if (event.key === "ArrowUp") next = at === 0 ? search : visible[at - 1];
      else if (event.key === "Home") next = visible[0];
      else if (event.key === "End") next = visible[visible.length - 1];
      else if (event.key === "Escape") next = search;
      else return;
      event.preventDefault();
      if (next) next.focus();
    });

    tools.hidden = false;
    showSelected();
    // A search kept by the browser (back, or a refused save) filters straight away.
    if (search.value) filter();
  }

  document.querySelectorAll("[data-standard-picker]").forEach(setUp);
})();
