// The triage queue's script. The page works without it (every action is a
// form, a "Refresh" link brings new reports); it adds:
//  - single-key shortcuts, when the person has them on (data-shortcuts):
//    j/k move, x select, a acknowledge, e escalate (its page), / search,
//    ? help. They never fire while typing in a field or with Ctrl, Alt or
//    Meta held (WCAG 2.1.4: they can be switched off in the settings);
//  - live updates: about every second it asks /queue/live what changed in
//    the same view since the last answer and inserts or replaces those
//    rows, saying so politely to screen readers (aria-live);
//  - the bulk bar: only the fields of the chosen action, the number
//    selected, and "select all on this page".
// No inline code, no eval: it runs under the pages' Content-Security-Policy.
(function () {
  "use strict";

  var POLL_VISIBLE = 1000; // ms between polls while the page is seen
  var POLL_HIDDEN = 10000; // and while it is in the background

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }

  function start() {
    var queue = $("[data-queue]");
    if (!queue) {
      return;
    }
    var tbody = $("[data-queue-rows]", queue);
    var table = $("#bulk-incidents", queue);
    var live = $("#queue-live");
    var csrf = queue.getAttribute("data-csrf");
    var msg = function (name) { return queue.getAttribute("data-msg-" + name) || ""; };
    var announceTimer = null;

    function announce(text) {
      if (!live || !text) {
        return;
      }
      // Set after a moment, so that a repeated text is read again.
      clearTimeout(announceTimer);
      live.textContent = "";
      announceTimer = setTimeout(function () { live.textContent = text; }, 50);
    }

    // Rows --------------------------------------------------------------
    function rows() { return tbody ? $$("tr[data-ref]", tbody) : []; }
    var currentRow = null;

    function setCurrent(row, focus) {
      if (currentRow && currentRow !== row) {
        currentRow.classList.remove("is-current");
      }
      currentRow = row;
      if (!row) {
        return;
      }
      row.classList.add("is-current");
      if (focus) {
        var link = $(".queue-ref", row);
        if (link) {
          link.focus();
        }
        if (row.scrollIntoView) {
          row.scrollIntoView({ block: "nearest" });
        }
      }
    }

    function rowOf(el) {
      while (el && el !== document) {
        if (el.tagName === "TR" && el.hasAttribute("data-ref")) {
          return el;
        }
        el = el.parentNode;
      }
      return null;
    }

    document.addEventListener("focusin", function (event) {
      var row = rowOf(event.target);
      if (row) {
        setCurrent(row, false);
      }
    });

    // Replaces a row by the server's HTML, keeping its tick and focus.
    function replaceRow(old, html) {
      var tmp = document.createElement("tbody");
      tmp.innerHTML = html.trim();
      var row = tmp.firstElementChild;
      if (!row) {
        return null;
      }
      var oldBox = $(".queue-check", old);
      var newBox = $(".queue-check", row);
      if (oldBox && newBox) {
        newBox.checked = oldBox.checked;
      }
      var hadFocus = old.contains(document.activeElement);
      var wasCurrent = old === currentRow;
      old.parentNode.replaceChild(row, old);
      if (wasCurrent) {
        setCurrent(row, hadFocus);
      }
      return row;
    }

    function insertRow(html) {
      var tmp = document.createElement("tbody");
      tmp.innerHTML = html.trim();
      var row = tmp.firstElementChild;
      if (!row || !tbody) {
        return null;
      }
      row.classList.add("is-arrived");
      tbody.insertBefore(row, tbody.firstChild);
      if (table && table.hidden) {
        table.hidden = false;
        var empty = $("[data-queue-empty]");
        if (empty) {
          empty.hidden = true;
        }
      }
      return row;
    }

    // Bulk bar ----------------------------------------------------------
    var form = $("#queue-bulk");
    var action = $("[data-bulk-action]");
    var count = $("[data-bulk-count]");
    var all = $("[data-check-all]");

    function showFields() {
      if (!action) {
        return;
      }
      $$("[data-for]", form).forEach(function (f) {
        f.hidden = f.getAttribute("data-for") !== action.value;
      });
    }

    function updateCount() {
      if (!count) {
        return;
      }
      var n = $$(".queue-check", tbody).filter(function (b) { return b.checked; }).length;
      count.textContent = n > 0 ? "(" + fill(msg("selected"), { n: n }) + ")" : "";
    }

    if (form) {
      if (action) {
        action.addEventListener("change", showFields);
        showFields();
      }
      form.addEventListener("change", function (event) {
        if (event.target.classList && event.target.classList.contains("queue-check")) {
          updateCount();
        }
      });
      if (all) {
        all.hidden = false;
        all.addEventListener("change", function () {
          $$(".queue-check", tbody).forEach(function (b) { b.checked = all.checked; });
          updateCount();
        });
      }
      updateCount();
    }

    // Acknowledge one row (a) through the same form the bar posts.
    function acknowledge(row) {
      if (!row || !form || !window.fetch) {
        return;
      }
      var body = new URLSearchParams();
      body.append("csrf", csrf);
      body.append("action", "acknowledge");
      body.append("ref", row.getAttribute("data-ref"));
      fetch("/queue/bulk/apply", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: body
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("acknowledge: " + response.status);
        }
        return response.json();
      }).then(function (out) {
        (out.results || []).forEach(function (r) {
          var target = $("tr[data-ref=\"" + r.reference + "\"]", tbody);
          if (target && r.row) {
            replaceRow(target, r.row);
          }
          announce(r.reference + ": " + r.text);
        });
      }).catch(function () {
        announce(msg("stopped"));
      });
    }

    // Keyboard ----------------------------------------------------------
    function typing(el) {
      if (!el) {
        return false;
      }
      var tag = el.tagName;
      if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) {
        return true;
      }
      if (tag === "INPUT") {
        var t = (el.getAttribute("type") || "text").toLowerCase();
        return ["checkbox", "radio", "button", "submit", "reset"].indexOf(t) < 0;
      }
      return false;
    }

    function move(step) {
      var list = rows();
      if (list.length === 0) {
        return;
      }
      var i = currentRow ? list.indexOf(currentRow) : -1;
      var next = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + step));
      setCurrent(list[next], true);
    }

    if (queue.getAttribute("data-shortcuts") === "on") {
      document.addEventListener("keydown", function (event) {
        if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) {
          return;
        }
        var key = event.key;
        if (event.shiftKey && key !== "?") {
          return;
        }
        switch (key) {
          case "j":
            move(1);
            break;
          case "k":
            move(-1);
            break;
          case "x":
            if (currentRow) {
              var box = $(".queue-check", currentRow);
              if (box) {
                box.checked = !box.checked;
                updateCount();
              }
            }
            break;
          case "a":
            acknowledge(currentRow);
            break;
          case "e":
            if (currentRow) {
              window.location.assign("/incidents/" + encodeURIComponent(currentRow.getAttribute("data-ref")) + "/escalate");
            }
            break;
          case "/":
            var q = $("#queue-q");
            if (q) {
              // After this key's event: the "/" itself must not land in
              // the field.
              setTimeout(function () {
                q.focus();
                q.select();
              }, 0);
            }
            break;
          case "?":
            var help = $("#queue-keys");
            if (help) {
              help.open = !help.open;
              var summary = $("summary", help);
              if (summary) {
                summary.focus();
              }
            }
            break;
          default:
            return;
        }
        event.preventDefault();
      });
    }

    // Live updates ------------------------------------------------------
    var liveURL = queue.getAttribute("data-live");
    var since = queue.getAttribute("data-since");
    var failures = 0;
    var stopped = false;

    function poll() {
      if (stopped || !window.fetch || !liveURL) {
        return;
      }
      var sep = liveURL.indexOf("?") < 0 ? "?" : "&";
      fetch(liveURL + sep + "since=" + encodeURIComponent(since), {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function (response) {
        if (response.status === 401 || response.status === 403) {
          stopped = true;
          announce(msg("stopped"));
          return null;
        }
        if (!response.ok) {
          throw new Error("live: " + response.status);
        }
        return response.json();
      }).then(function (out) {
        if (!out) {
          return;
        }
        failures = 0;
        since = out.now;
        var said = [];
        // Oldest first, so that the newest ends up on top.
        (out.rows || []).slice().reverse().forEach(function (r) {
          var old = $("tr[data-ref=\"" + r.reference + "\"]", tbody);
          if (!old) {
            var row = insertRow(r.row);
            if (row) {
              var title = $(".cell-main", row);
              said.push(fill(msg("new"), { ref: r.reference, title: title ? title.textContent.trim() : "" }));
            }
          } else if (String(r.version) !== old.getAttribute("data-version")) {
            replaceRow(old, r.row);
            said.push(fill(msg("changed"), { ref: r.reference }));
          }
        });
        if (out.more) {
          said.push(msg("more"));
        }
        if (said.length > 0) {
          announce(said.join(". "));
          updateCount();
        }
      }).catch(function () {
        failures++;
      }).then(function () {
        if (!stopped) {
          var wait = document.hidden ? POLL_HIDDEN : POLL_VISIBLE;
          setTimeout(poll, wait * Math.min(1 + failures, 30));
        }
      });
    }
    setTimeout(poll, POLL_VISIBLE);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
