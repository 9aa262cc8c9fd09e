// Itemise by selection: on the staff page of a submission, the clerk selects a passage of the
// original (mouse, or keyboard: Shift + arrow keys in the text box) and takes it as the
// range of a new item. The form's start and end fields stay, and are all there is without
// JavaScript. Positions are counted in characters (code points), as the server counts them.
(function () {
  "use strict";
  var source = document.querySelector("[data-itemise-source]");
  var form = document.querySelector("[data-itemise-form]");
  var template = document.getElementById("itemise-ui");
  if (!source || !form || !template || !("content" in template)) { return; }
  var start = form.querySelector("[name=span_start]");
  var end = form.querySelector("[name=span_end]");
  if (!start || !end) { return; }

  var ui = template.content.firstElementChild.cloneNode(true);
  var box = ui.querySelector("textarea");
  var status = ui.querySelector("[data-itemise-status]");
  var messages = {
    none: ui.querySelector("[data-msg-none]").innerHTML,
    taken: ui.querySelector("[data-msg-taken]").innerHTML
  };
  var original = source.textContent;
  box.value = original;
  // The box only shows the original: it is not `readonly`, which in Chromium stops the keyboard
  // from moving the caret and selecting, but it refuses every change (aria-readonly says so).
  box.addEventListener("beforeinput", function (event) { event.preventDefault(); });
  box.addEventListener("input", function () {
    if (box.value !== original) { box.value = original; }
  });
  box.rows = Math.min(24, Math.max(4, box.value.split("\n").length + 1));
  source.parentNode.replaceChild(ui, source);

  function codePoints(text) { return Array.from(text).length; }
  function decode(html) { var t = document.createElement("textarea"); t.innerHTML = html; return t.value; }
  function say(text) { status.textContent = text; }

  ui.querySelector("[data-itemise-take]").addEventListener("click", function () {
    var a = box.selectionStart, b = box.selectionEnd;
    var picked = box.value.slice(a, b);
    if (a === b || !picked.trim()) { say(decode(messages.none)); box.focus(); return; }
    var from = codePoints(box.value.slice(0, a));
    var to = from + codePoints(picked);
    start.value = String(from);
    end.value = String(to);
    var preview = codePoints(picked) > 40 ? Array.from(picked).slice(0, 40).join("") + "…" : picked;
    say(decode(messages.taken).replace("{start}", from).replace("{end}", to)
      .replace("{count}", to - from).replace("{text}", preview));
    var first = form.querySelector("[name=sections]") || start;
    first.focus();
  });
})();
