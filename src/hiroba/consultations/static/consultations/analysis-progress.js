// Progress of a running opinion analysis: polls the JSON endpoint named by data-progress-url and
// updates the <progress> element and the polite live region; reloads the page when the run ends.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.state === "done" || d.state === "failed") { window.location.reload(); return; }
        if (bar) { bar.value = d.percent; }
        if (text) { text.textContent = d.state_label + "：" + (d.stage || "") + "（" + d.percent + "%）"; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
