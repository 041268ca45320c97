// Bulk actions on a list page. The server renders a checkbox in each row
// (form#bulk, input[name=ids]), which work without script. Here the hidden
// "Select all on this page" box is shown and kept in step with the rows
// (checked, unchecked or mixed), and a status line says how many are
// selected, in the page's language: the status carries the message's
// plural forms (data-selected-one, -two, -few, -many, -other, "{n}" for
// the count), and Intl.PluralRules picks one. Loaded from /static/ with no
// inline code, as the Content-Security-Policy requires.
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

    // selected says "n selected" in the form the page's language uses
    // for n.
    function selected(n) {
      var form = "other";
      try {
        form = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
      } catch (e) {
        form = n === 1 ? "one" : "other";
      }
      var pattern = status.getAttribute("data-selected-" + form) || status.getAttribute("data-selected-other");
      return pattern ? pattern.split("{n}").join(String(n)) : n + " selected";
    }

    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      all.checked = n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      if (status) {
        status.textContent = n === 0 ? "" : selected(n);
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
