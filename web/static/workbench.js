// The workbench on the incident page: progressive enhancement only.
//  - the RSIT class list gets a filter field: typing hides the classes
//    that do not match (the list works without it, grouped by category).
// No inline code, no eval: it runs under the pages' Content-Security-Policy.
(function () {
  "use strict";

  function norm(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-filter-select"));
    if (!select) {
      return;
    }
    var box = input.closest(".wb-filter");
    if (box) {
      box.hidden = false;
    }
    input.addEventListener("input", function () {
      var words = norm(input.value).split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var label = norm(group.label);
        var any = false;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (opt) {
          var text = label + " " + norm(opt.textContent) + " " + norm(opt.value);
          var match = words.every(function (w) { return text.indexOf(w) >= 0; });
          opt.hidden = !match && !opt.selected;
          any = any || match;
        });
        group.hidden = !any;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-filter-select]"), filterSelect);
  });
})();
