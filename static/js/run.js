/*
 * The live run page. Without JavaScript the page shows the run as it was when loaded (reload to
 * refresh; the cancel button is a plain form). With it, events stream over the run's WebSocket:
 * on (re)connect the client sends the last seq it has seen (?after=) and the server replays
 * everything after it, so nothing is lost; reconnects back off from 0.5 s to 10 s.
 */
(function () {
  "use strict";

  var root = document.getElementById("run");
  if (!root) return;

  var TERMINAL = { succeeded: 1, failed: 1, timed_out: 1, canceled: 1 };
  var LABELS = {
    queued: "Queued", starting: "Starting", running: "Running", succeeded: "Succeeded",
    failed: "Failed", timed_out: "Timed out", canceled: "Canceled"
  };
  var REASONS = {
    agent_error: "The agent reported an error", invalid_output: "The agent's output did not match its output schema",
    output_too_large: "The agent's output exceeded the size limit", protocol_error: "The agent broke the agent protocol",
    out_of_memory: "The agent ran out of memory", timeout: "The run passed its deadline",
    image_missing: "The agent's image is not available", infrastructure_error: "The platform could not run the agent",
    worker_lost: "The worker running the agent stopped", canceled: "Canceled"
  };

  var lastSeq = parseInt(root.dataset.lastSeq || "0", 10);
  var status = root.dataset.status;
  var badge = root.querySelector("[data-run-badge]");
  var conn = root.querySelector("[data-connection]");
  var bar = root.querySelector("[data-run-progress]");
  var barText = root.querySelector("[data-run-progress-text]");
  var barMessage = root.querySelector("[data-run-progress-message]");
  var log = root.querySelector("[data-run-log]");
  var resultPanel = root.querySelector("[data-run-result-panel]");
  var output = root.querySelector("[data-run-output]");
  var errorBox = root.querySelector("[data-run-error]");
  var download = root.querySelector("[data-run-download]");
  var cancelForm = root.querySelector("[data-cancel-form]");
  var socket = null;
  var retry = 0;
  var timer = null;

  function setConnection(text) {
    if (!conn) return;
    conn.hidden = !text;
    conn.textContent = text || "";
  }

  function setStatus(next, payload) {
    status = next;
    root.dataset.status = next;
    badge.textContent = LABELS[next] || next;
    badge.className = "badge badge--run badge--" + next;
    if (TERMINAL[next]) finish(payload || {});
  }

  function setProgress(percent, message) {
    var value = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
    bar.value = value;
    bar.textContent = value + "%";
    barText.textContent = value + "%";
    if (message) barMessage.textContent = message;
  }

  function addLog(payload, seq) {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var li = document.createElement("li");
    var level = String(payload.level || "info");
    li.className = "log-line log-line--" + level.replace(/[^a-z]/g, "");
    li.dataset.seq = seq;
    var tag = document.createElement("span");
    tag.className = "log-line__level";
    tag.textContent = level;
    li.appendChild(tag);
    li.appendChild(document.createTextNode(" " + String(payload.message || "")));
    log.appendChild(li);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function finish(payload) {
    if (cancelForm) cancelForm.hidden = true;
    if (status === "succeeded") setProgress(100);
    // The final record (output, measures) comes from the API, the same JSON the download gives.
    fetch(download.querySelector("a").href, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        resultPanel.hidden = false;
        errorBox.textContent = "";
        var reason = (run && run.failure_reason) || payload.reason;
        if (reason) {
          var p = document.createElement("p");
          p.className = "banner banner--danger";
          var strong = document.createElement("strong");
          strong.textContent = (REASONS[reason] || reason) + ".";
          p.appendChild(strong);
          p.appendChild(document.createTextNode(" " + ((run && run.error_message) || payload.message || "")));
          errorBox.appendChild(p);
        }
        if (run && run.output !== null && run.output !== undefined) {
          output.textContent = JSON.stringify(run.output, null, 2);
          output.hidden = false;
          download.hidden = false;
        }
        if (run) showPayment(run.settlement);
        var duration = root.querySelector("[data-run-duration]");
        if (run && run.duration_ms !== null && duration) duration.textContent = run.duration_ms.toLocaleString() + " ms";
        if (socket) socket.close(1000);
      })
      .catch(function () { resultPanel.hidden = false; });
  }

  var KINDS = { release: "Release to the developer", refund: "Refund to the buyer" };
  var SETTLED = { confirmed: 1, failed: 1 };

  // The settlement follows the run's end by a few seconds: poll the run until it is confirmed.
  function showPayment(settlement) {
    var cell = root.querySelector("[data-run-payment]");
    if (!cell || !settlement) return;
    var link = cell.querySelector("a");
    cell.textContent = (settlement.kind ? (KINDS[settlement.kind] || settlement.kind) + ": " : "") + settlement.status;
    if (settlement.tx_hash) {
      var tx = document.createElement("span");
      tx.className = "mono";
      tx.textContent = " · " + settlement.tx_hash.slice(0, 18) + "…";
      cell.appendChild(tx);
    }
    if (link) { cell.appendChild(document.createTextNode(" (")); cell.appendChild(link); cell.appendChild(document.createTextNode(")")); }
    if (!SETTLED[settlement.status]) {
      window.setTimeout(function () {
        fetch(download.querySelector("a").href, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (run) { if (run) showPayment(run.settlement); });
      }, 1500);
    }
  }

  function handle(event) {
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    root.dataset.lastSeq = String(lastSeq);
    var p = event.payload || {};
    if (event.type === "status") setStatus(p.status, p);
    else if (event.type === "progress") setProgress(p.percent, p.message);
    else if (event.type === "log") addLog(p, event.seq);
  }

  function connect() {
    if (TERMINAL[status]) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.streamUrl + "?after=" + lastSeq);
    socket.onopen = function () {
      retry = 0;
      setConnection("");
    };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      (data.events || []).forEach(handle);
    };
    socket.onclose = function (event) {
      socket = null;
      if (TERMINAL[status]) return setConnection("");
      if (event.code === 4404) return setConnection("This run is not available.");
      var delay = Math.min(10000, 500 * Math.pow(2, retry++));
      setConnection("Disconnected; reconnecting in " + Math.round(delay / 1000) + " s…");
      root.dataset.connection = "disconnected";
      timer = window.setTimeout(connect, delay);
    };
  }

  if (cancelForm) {
    cancelForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = cancelForm.querySelector("button");
      button.disabled = true;
      button.textContent = "Canceling…";
      var token = cancelForm.querySelector("[name=csrfmiddlewaretoken]").value;
      fetch("/api/v1/runs/" + root.dataset.runId + "/cancel/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, Accept: "application/json" }
      }).then(function (r) {
        if (!r.ok && r.status !== 409) cancelForm.submit();
      }).catch(function () { cancelForm.submit(); });
    });
  }

  window.addEventListener("online", function () {
    if (!socket && !TERMINAL[status]) { window.clearTimeout(timer); retry = 0; connect(); }
  });
  connect();
})();
