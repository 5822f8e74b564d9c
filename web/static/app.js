// certdesk's only script. It enhances pages that work without it:
//  - the warning before the session ends, with "Stay signed in" sent in
//    the background (the same form works as a plain POST without it);
//  - the focus on the error summary of a form that came back with errors;
//  - a form marked data-once is sent once: a second click or Enter while
//    the first send is under way does nothing (the server also makes a
//    second send of the same report create nothing, for when scripts are
//    off), and its button says it is busy.
// No inline code, no eval: it runs under the pages' Content-Security-Policy.
(function () {
  "use strict";

  var WARN_BEFORE = 120; // seconds before the end of the session

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  function sessionWarning() {
    var body = document.body;
    var box = document.getElementById("session-warning");
    if (!box || !body.hasAttribute("data-session-idle")) {
      return;
    }
    var form = box.querySelector("[data-session-extend]");
    var idleText = box.querySelector("[data-session-idle-text]");
    var maxText = box.querySelector("[data-session-max-text]");
    var idle = parseInt(body.getAttribute("data-session-idle"), 10);
    var max = parseInt(body.getAttribute("data-session-max"), 10);
    var warnTimer = null;
    var endTimer = null;

    function schedule() {
      clearTimeout(warnTimer);
      clearTimeout(endTimer);
      var left = Math.min(idle, max);
      warnTimer = setTimeout(show, Math.max(0, left - WARN_BEFORE) * 1000);
      // When the session has ended, reload: the server asks to sign in
      // again and then returns here.
      endTimer = setTimeout(function () { window.location.reload(); }, (left + 2) * 1000);
    }

    function show() {
      var atLimit = max <= idle + 1;
      idleText.hidden = atLimit;
      maxText.hidden = !atLimit;
      form.hidden = atLimit;
      box.hidden = false;
      var button = form.querySelector("button");
      if (!atLimit && button) {
        button.focus();
      } else {
        box.focus();
      }
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch) {
        return; // the plain form post does it
      }
      event.preventDefault();
      var token = form.querySelector("input[name=csrf]").value;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token, "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("extend: " + response.status);
        }
        return response.json();
      }).then(function (clock) {
        idle = clock.idle_seconds;
        max = clock.max_seconds;
        idleText.textContent = clock.idle_text;
        maxText.textContent = clock.max_text;
        box.hidden = true;
        schedule();
      }).catch(function () {
        form.submit(); // fall back to the plain form
      });
    });

    schedule();
  }

  function sendOnce() {
    var forms = document.querySelectorAll("form[data-once]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-sending") === "true") {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-sending", "true");
        var button = form.querySelector("[data-once-button]");
        if (button) {
          button.setAttribute("aria-disabled", "true");
          button.classList.add("button-busy");
        }
      });
    });
    // Coming back with the browser's Back button shows the page from the
    // back-forward cache with the flag set: clear it.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(forms, function (form) {
        form.removeAttribute("data-sending");
        var button = form.querySelector("[data-once-button]");
        if (button) {
          button.removeAttribute("aria-disabled");
          button.classList.remove("button-busy");
        }
      });
    });
  }

  function start() {
    focusErrorSummary();
    sessionWarning();
    sendOnce();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
