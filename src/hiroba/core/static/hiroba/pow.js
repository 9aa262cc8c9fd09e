// hiroba: the proof of work before a public write under a flood (hiroba.core.pow, ALTCHA's v1
// SHA-256 challenge). A form with data-pow="{challenge JSON}" gets the number n for which
// sha256(salt + n) is the challenge, found while the resident reads the page; the final button
// waits for it, then sends. Nothing for the resident to do; the status line says what happens.
(function () {
  "use strict";
  var form = document.querySelector("form[data-pow]");
  if (!form || !window.crypto || !window.crypto.subtle) { return; }
  var field = form.querySelector('input[name="altcha"]');
  var status = form.querySelector("[data-pow-status]");
  var lang = document.documentElement.lang === "en" ? "en" : "ja";
  var text = {
    ja: { working: "送信前の自動確認をしています…", done: "自動の確認が済みました。提出できます。",
          failed: "自動の確認ができませんでした。ページを読み込み直してください。" },
    en: { working: "Checking your device before sending…", done: "The check is done. You can submit.",
          failed: "The check could not be completed. Please reload the page." }
  }[lang];
  var challenge = JSON.parse(form.getAttribute("data-pow"));
  var encoder = new TextEncoder();

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  async function solve() {
    for (var n = 0; n <= challenge.maxNumber; n++) {
      var digest = await window.crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) { return n; }
    }
    return null;
  }

  if (status) { status.textContent = text.working; }
  var solved = solve().then(function (number) {
    if (number === null) { throw new Error("unsolved"); }
    field.value = btoa(JSON.stringify({ algorithm: challenge.algorithm, challenge: challenge.challenge,
                                        number: number, salt: challenge.salt, signature: challenge.signature }));
    if (status) { status.textContent = text.done; }
  }).catch(function () { if (status) { status.textContent = text.failed; } });

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (field.value || !button || button.value !== "submit") { return; }  // 戻る needs no proof
    event.preventDefault();
    button.disabled = true;
    solved.then(function () {
      button.disabled = false;
      if (field.value) { form.requestSubmit(button); }
    });
  });
})();
