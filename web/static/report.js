// The reporting pages' enhancements, under the pages' Content-Security-
// Policy (no inline code, no eval). Everything works without it:
//  - a form marked data-once is sent once: a second click or Enter while
//    the first send is under way does nothing (the server also makes a
//    second send of the same report create nothing, for when scripts are
//    off), and its button says it is busy.
(function () {
  "use strict";

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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", sendOnce);
  } else {
    sendOnce();
  }
})();
