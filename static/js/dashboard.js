// Developer dashboard: submissions still in the pipeline update their status badge in place
// (the submission page itself streams the full log over a WebSocket).
(function () {
  "use strict";
  var DONE = { pending_review: 1, approved: 1, rejected: 1, failed: 1 };
  var badges = Array.prototype.slice.call(document.querySelectorAll("[data-live-status]"));
  if (!badges.length || !window.fetch) return;
  function poll(badge) {
    // after=a huge seq: only the status is wanted, not the log lines.
    fetch(badge.dataset.liveStatus + "?after=2147483647", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (badge.textContent !== data.status_display) badge.textContent = data.status_display;
        if (DONE[data.status]) {
          badge.removeAttribute("data-live-status");
          return;
        }
        setTimeout(function () { poll(badge); }, 3000);
      })
      .catch(function () { setTimeout(function () { poll(badge); }, 6000); });
  }
  badges.forEach(poll);
})();
