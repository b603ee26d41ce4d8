/*
 * The developer's submission page. Without JavaScript the page shows the submission as it was when
 * loaded (reload to refresh). With it, log lines and status changes stream over the submission's
 * WebSocket (docs/agent-manifest.md#following-a-submission-live): on (re)connect the client sends
 * the last seq it has (?after=) and the server replays everything after it, so nothing is lost;
 * reconnects back off from 0.5 s to 10 s. When the WebSocket cannot connect at all (a proxy that
 * does not pass it, say) the page polls the JSON status endpoint instead, as it used to.
 */
(function () {
  "use strict";

  var root = document.getElementById("submission");
  if (!root) return;

  var TERMINAL = { approved: 1, rejected: 1, failed: 1 };
  // The pipeline's work is over: the findings and results are on the page after a refresh.
  var SETTLED = { pending_review: 1, approved: 1, rejected: 1, failed: 1 };
  var BADGES = {
    submitted: "badge--run badge--queued", building: "badge--run badge--running",
    scanning: "badge--run badge--running", smoke_testing: "badge--run badge--running",
    pending_review: "badge--warning", approved: "badge--success", rejected: "badge--danger",
    failed: "badge--danger"
  };
  var NEVER_OPENED_LIMIT = 2; // attempts that never open before falling back to polling

  var initial = root.dataset.status;
  var status = initial;
  var log = root.querySelector("[data-sub-log]");
  var badge = root.querySelector("[data-sub-status]");
  var working = root.querySelector("[data-sub-working]");
  var conn = root.querySelector("[data-connection]");
  var errorBox = root.querySelector("[data-sub-error]");
  var refresh = root.querySelector("[data-sub-refresh]");
  var lastSeq = 0;
  var socket = null;
  var retry = 0;
  var neverOpened = 0;
  var polling = false;
  var timer = null;

  Array.prototype.forEach.call(log.querySelectorAll("li[data-seq]"), function (li) {
    lastSeq = Math.max(lastSeq, parseInt(li.dataset.seq, 10) || 0);
  });

  function setConnection(text) {
    conn.hidden = !text;
    conn.textContent = text || "";
  }

  function addLines(lines) {
    if (!lines || !lines.length) return;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    lines.forEach(function (l) {
      if (l.seq <= lastSeq) return; // already shown
      var li = document.createElement("li");
      li.className = "log-line";
      li.dataset.seq = l.seq;
      var tag = document.createElement("span");
      tag.className = "log-line__level";
      tag.textContent = l.step;
      li.appendChild(tag);
      li.appendChild(document.createTextNode(" " + String(l.line)));
      log.appendChild(li);
      lastSeq = l.seq;
    });
    root.dataset.lastSeq = String(lastSeq);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // `s` is the WebSocket's status frame or the polling endpoint's answer: both have status,
  // status_display and error.
  function applyStatus(s) {
    if (!s || !s.status) return;
    status = s.status;
    root.dataset.status = status;
    var label = s.status_display || status;
    if (badge.textContent !== label) badge.textContent = label; // unchanged text: no re-announcement
    badge.className = "badge " + (BADGES[status] || "");
    working.hidden = !!SETTLED[status];
    errorBox.hidden = !s.error;
    errorBox.textContent = s.error || "";
    if (SETTLED[status] && status !== initial) refresh.hidden = false;
    if (TERMINAL[status] && socket) socket.close(1000);
  }

  function poll() {
    polling = true;
    fetch(root.dataset.statusUrl + "?after=" + lastSeq, {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (r) {
        if (r.status === 404) {
          setConnection("This submission is not available.");
          return null;
        }
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) {
        if (!data) return;
        setConnection("");
        addLines(data.lines);
        applyStatus(data);
        // A full page of lines means more are waiting: ask again at once.
        if (!SETTLED[status] || data.lines.length >= 500) {
          timer = window.setTimeout(poll, data.lines.length >= 500 ? 0 : 1500);
        }
      })
      .catch(function () {
        setConnection("Cannot reach the server; retrying…");
        timer = window.setTimeout(poll, 3000);
      });
  }

  function connect() {
    if (TERMINAL[status]) return;
    if (!window.WebSocket) return poll();
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var opened = false;
    socket = new WebSocket(scheme + location.host + root.dataset.streamUrl + "?after=" + lastSeq);
    socket.onopen = function () {
      opened = true;
      retry = 0;
      neverOpened = 0;
      root.dataset.connection = "live";
      setConnection("");
    };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      addLines(data.lines);
      applyStatus(data.status);
    };
    socket.onclose = function (event) {
      socket = null;
      if (TERMINAL[status]) return setConnection("");
      if (event.code === 4404) return setConnection("This submission is not available.");
      if (!opened && ++neverOpened >= NEVER_OPENED_LIMIT) {
        root.dataset.connection = "polling";
        return poll();
      }
      var delay = Math.min(10000, 500 * Math.pow(2, retry++));
      if (opened) setConnection("Disconnected; reconnecting in " + Math.max(1, Math.round(delay / 1000)) + " s…");
      root.dataset.connection = "disconnected";
      timer = window.setTimeout(connect, delay);
    };
  }

  window.addEventListener("online", function () {
    if (!socket && !polling && !TERMINAL[status]) {
      window.clearTimeout(timer);
      retry = 0;
      connect();
    }
  });
  connect();
})();
