// Bulk actions on a list page. The server renders a checkbox in each row
// (form#bulk, input[name=ids]), which work without script. Here the hidden
// "Select all on this page" box is shown and kept in step with the rows
// (checked, unchecked or mixed), and a status line says how many are
// selected. Loaded from /static/ with no inline code, as the
// Content-Security-Policy requires.
(function () {
  "use strict";

  function setup(form) {
    var label = form.querySelector(".select-all");
    var all = label && label.querySelector("input[type=checkbox]");
    var status = form.querySelector(".bulk-status");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=ids]"));
    if (!all || boxes.length === 0) {
      return;
    }

    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      all.checked = n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      if (status) {
        status.textContent = n === 0 ? "" : n + " selected";
      }
    }

    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    label.hidden = false;
    // The browser may have restored checked boxes (back button).
    update();
  }

  function init() {
    var form = document.getElementById("bulk");
    if (form) {
      setup(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// The top menu's categories and the list's filter menu are <details>
// elements: Escape closes the open ones, as it closes any menu, and gives
// the focus back to the button of the one it was in. (Kept here rather
// than in a file of its own: every page loads this one.)
(function () {
  "use strict";

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" && e.key !== "Esc") {
      return;
    }
    var open = document.querySelectorAll("details.dropdown[open], details.filter-menu[open]");
    Array.prototype.forEach.call(open, function (d) {
      var hadFocus = d.contains(document.activeElement);
      d.open = false;
      if (hadFocus) {
        d.querySelector("summary").focus();
      }
    });
  });
})();
