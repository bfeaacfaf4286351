// faas dashboard: small progressive enhancement. Every page reads and
// every form works without this script; it refreshes the live parts of a
// page, follows a running job's logs, and checks the payload as you type.
"use strict";

(function () {
  // Live parts: elements with data-live-part and an id are replaced by
  // the same elements of the page fetched again, every 2 seconds while
  // the tab is visible. When the page stops being live (a job ended), its
  // whole main is replaced once and the refreshing stops.
  function refresh() {
    if (!document.body.hasAttribute("data-live")) return;
    if (document.hidden) { setTimeout(refresh, 2000); return; }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.body.hasAttribute("data-live")) {
          var main = document.getElementById("main"), fresh = doc.getElementById("main");
          if (main && fresh) main.innerHTML = fresh.innerHTML;
          document.body.removeAttribute("data-live");
          return;
        }
        document.querySelectorAll("[data-live-part][id]").forEach(function (el) {
          var n = doc.getElementById(el.id);
          if (n) el.innerHTML = n.innerHTML;
        });
        setTimeout(refresh, 2000);
      })
      .catch(function () { setTimeout(refresh, 5000); });
  }
  setTimeout(refresh, 2000);

  // A running job's logs, streamed as NDJSON lines while it runs.
  var logs = document.querySelector("pre[data-follow]");
  if (logs && window.TextDecoder && window.ReadableStream) {
    fetch(logs.getAttribute("data-follow"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok || !r.body) return;
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
      logs.textContent = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buf += dec.decode(chunk.value, { stream: true });
          var lines = buf.split("\n");
          buf = lines.pop();
          lines.forEach(function (l) {
            if (!l) return;
            try { logs.textContent += JSON.parse(l).line + "\n"; } catch (e) { /* not a log line */ }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function () {});
  }

  // The payload editor: says whether the payload is JSON; Ctrl+Enter sends.
  var payload = document.getElementById("payload"), check = document.getElementById("payload-check");
  if (payload && check) {
    var say = function () {
      var v = payload.value.trim();
      if (!v) { check.textContent = "Empty: the function gets an empty payload."; return; }
      try { JSON.parse(v); check.textContent = "Valid JSON."; }
      catch (e) { check.textContent = "Not JSON: sent as text."; }
    };
    payload.addEventListener("input", say);
    say();
    payload.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); payload.form.requestSubmit(); }
    });
  }

  // Forms that undo something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
})();
