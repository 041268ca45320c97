// Searchable reference fields. The server renders each as a plain id input
// with the label of the record it names (div.lookup[data-lookup-url]), which
// works without script. Here it becomes a combobox in the ARIA 1.2 pattern:
// the user types part of a label, the field's lookup URL answers the best
// matches, and the chosen record's id goes into the input the form posts,
// now hidden. What it says is the page's language: the server writes its
// messages on div.lookup (data-msg-*, "{label}" and "{n}" standing for a
// label and a count, a count's message in each plural form, picked with
// Intl.PluralRules), English when one is missing. Loaded from /static/
// with no inline code, as the Content-Security-Policy requires; it writes
// nothing to the console.
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var instances = 0;

  function setup(box) {
    var idInput = box.querySelector("input.lookup-id");
    var url = box.getAttribute("data-lookup-url");
    if (!idInput || !url) {
      return;
    }
    var hint = box.querySelector(".lookup-hint");
    var current = box.querySelector(".lookup-current");
    var target = box.getAttribute("data-lookup-target") || "record";

    // msg is the page's message name, else english; {label} and {n} in it
    // are replaced with vars' values.
    function msg(name, english, vars) {
      var text = box.getAttribute("data-msg-" + name) || english;
      Object.keys(vars || {}).forEach(function (k) {
        text = text.split("{" + k + "}").join(String(vars[k]));
      });
      return text;
    }

    // count is the message name for n in its plural form.
    function count(name, english, n) {
      var form = "other";
      try {
        form = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
      } catch (e) {
        form = n === 1 ? "one" : "other";
      }
      if (!box.getAttribute("data-msg-" + name + "-" + form)) {
        form = "other";
      }
      return msg(name + "-" + form, english, { n: n });
    }
    var domID = idInput.id || "lookup-" + ++instances;
    var listID = domID + "-listbox";

    // The record now named: its label, or the raw value when the server
    // knew none (an id that names nothing, shown back with its error).
    var chosen = { id: idInput.value, label: current ? current.textContent : idInput.value };

    // The label's "for" and the error's aria-describedby name the visible
    // control, so it takes the input's id and the input becomes hidden.
    var combo = document.createElement("input");
    combo.type = "text";
    combo.className = "lookup-input";
    combo.value = chosen.label;
    combo.autocomplete = "off";
    combo.spellcheck = false;
    combo.placeholder = msg("placeholder", "Type to search by name");
    combo.setAttribute("role", "combobox");
    combo.setAttribute("aria-autocomplete", "list");
    combo.setAttribute("aria-expanded", "false");
    combo.setAttribute("aria-controls", listID);
    var described = (idInput.getAttribute("aria-describedby") || "").split(" ").filter(function (ref) {
      return ref && ref !== domID + "-hint";
    });
    var status = document.createElement("p");
    status.className = "lookup-status";
    status.id = domID + "-status";
    status.setAttribute("role", "status");
    described.push(status.id);
    combo.setAttribute("aria-describedby", described.join(" "));
    if (idInput.getAttribute("aria-invalid")) {
      combo.setAttribute("aria-invalid", "true");
    }

    var list = document.createElement("ul");
    list.id = listID;
    list.className = "lookup-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", msg("list", target + " matches"));
    list.hidden = true;

    idInput.id = domID + "-value";
    combo.id = domID;
    idInput.type = "hidden";
    idInput.removeAttribute("aria-describedby");
    idInput.removeAttribute("aria-invalid");
    if (hint) {
      hint.hidden = true;
    }
    box.insertBefore(combo, idInput);
    box.appendChild(list);
    box.appendChild(status);

    var results = [];
    var active = -1;
    var timer = 0;
    var seq = 0; // the latest request: older answers are dropped
    var swallowEnter = false; // the Enter that chose an option

    function setStatus(text) {
      status.textContent = text;
    }

    function close() {
      list.hidden = true;
      combo.setAttribute("aria-expanded", "false");
      combo.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (results.length > 0) {
        list.hidden = false;
        combo.setAttribute("aria-expanded", "true");
      }
    }

    function highlight(i) {
      var options = list.children;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = i;
      if (i < 0 || !options[i]) {
        combo.removeAttribute("aria-activedescendant");
        return;
      }
      options[i].setAttribute("aria-selected", "true");
      combo.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    }

    function render(answer) {
      results = answer.results || [];
      list.textContent = "";
      active = -1;
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = domID + "-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = r.label;
        list.appendChild(li);
      });
      if (results.length === 0) {
        close();
        setStatus(msg("none", "No " + target + " matches."));
        return;
      }
      setStatus(answer.more ? count("more", "{n}+ matches: type more to narrow them.", results.length)
        : count("count", "{n} matches.", results.length));
      open();
    }

    function search() {
      var q = combo.value.trim();
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        redirect: "error", // a lapsed session answers the login page
        headers: { Accept: "application/json" },
      })
        .then(function (resp) {
          if (!resp.ok) {
            throw new Error("status " + resp.status);
          }
          return resp.json();
        })
        .then(function (answer) {
          if (mine === seq && document.activeElement === combo) {
            render(answer);
          }
        })
        .catch(function () {
          if (mine === seq) {
            close();
            setStatus(msg("failed", "The search failed. Reload the page, or enter the " + target + " id."));
          }
        });
    }

    function choose(i) {
      var r = results[i];
      if (!r) {
        return;
      }
      chosen = { id: r.id, label: r.label };
      idInput.value = r.id;
      combo.value = r.label;
      close();
      setStatus(msg("chose", "Chose {label}.", { label: r.label }));
    }

    // settle ends an edit that chose nothing: an emptied field names no
    // record, any other text goes back to the record named before.
    function settle() {
      close();
      if (combo.value.trim() === "") {
        chosen = { id: "", label: "" };
        idInput.value = "";
        return;
      }
      combo.value = chosen.label;
    }

    combo.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });

    combo.addEventListener("keydown", function (e) {
      switch (e.key) {
        case "ArrowDown":
          e.preventDefault();
          if (list.hidden) {
            if (results.length > 0) {
              open();
            } else {
              search();
            }
            return;
          }
          highlight(Math.min(active + 1, results.length - 1));
          break;
        case "ArrowUp":
          e.preventDefault();
          if (!list.hidden) {
            highlight(Math.max(active - 1, 0));
          }
          break;
        case "Enter":
          if (!list.hidden && active >= 0) {
            e.preventDefault(); // choose, and do not submit the form
            swallowEnter = true;
            choose(active);
          }
          break;
        case "Escape":
          if (!list.hidden) {
            e.preventDefault();
            close();
          } else {
            settle();
          }
          break;
      }
    });

    // A keypress that arrives on its own after the keydown (synthetic
    // input does that) would still submit the form: it is swallowed too.
    combo.addEventListener("keypress", function (e) {
      if (e.key === "Enter" && swallowEnter) {
        e.preventDefault();
      }
    });
    combo.addEventListener("keyup", function () {
      swallowEnter = false;
    });

    combo.addEventListener("blur", function () {
      clearTimeout(timer);
      seq++;
      settle();
    });

    // mousedown, not click: a click would blur the input first.
    list.addEventListener("mousedown", function (e) {
      var li = e.target.closest("[role=option]");
      if (li) {
        e.preventDefault();
        choose(Array.prototype.indexOf.call(list.children, li));
      }
    });
  }

  document.querySelectorAll(".lookup[data-lookup-url]").forEach(setup);
})();
