// Filters by status and tag. The page reads fully without this script: it only shows
// the filter form and hides the scenarios that do not match. It reads data only from
// the page's own attributes and never loads anything.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var scenarios = Array.prototype.slice.call(document.querySelectorAll("details.scenario"));
  function checked(name) {
    if (!form) return [];
    return Array.prototype.slice
      .call(form.querySelectorAll('input[name="' + name + '"]:checked'))
      .map(function (input) { return input.value; });
  }
  function tagsOf(el) {
    try { return JSON.parse(el.getAttribute("data-tags") || "[]"); } catch (e) { return []; }
  }
  function apply() {
    var statuses = checked("status");
    var tags = checked("tag");
    var shown = 0;
    scenarios.forEach(function (el) {
      var own = tagsOf(el);
      var ok = statuses.indexOf(el.getAttribute("data-status")) >= 0 &&
        (tags.length === 0 || own.some(function (t) { return tags.indexOf(t) >= 0; }));
      el.hidden = !ok;
      if (ok) shown += 1;
    });
    var out = document.getElementById("shown");
    if (out) out.textContent = shown + " of " + scenarios.length + " scenarios shown";
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    while (el) {
      if (el.tagName === "DETAILS") { el.open = true; el.hidden = false; }
      el = el.parentElement;
    }
  }
  if (form) {
    form.hidden = false;
    form.addEventListener("change", apply);
    apply();
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.documentElement.setAttribute("data-js", "ready");
})();
