/*
 * Paying for a purchase with an EIP-1193 wallet (window.ethereum): switch to the right chain,
 * send each call (approve, then purchase) from the purchase's wallet, report the purchase
 * transaction to the server, then follow the purchase until the chain confirms it and go to the
 * agent's run page. The server never trusts this page: it confirms from the chain.
 */
(function () {
  "use strict";
  var root = document.getElementById("purchase");
  if (!root) return;
  var button = root.querySelector("[data-pay-button]");
  var stepsList = root.querySelector("[data-pay-steps]");
  var message = root.querySelector("[data-pay-message]");
  var statusBadge = root.querySelector("[data-purchase-status]");
  var callsNode = document.getElementById("purchase-calls");
  var calls = callsNode ? JSON.parse(callsNode.textContent) : [];
  var id = root.dataset.purchaseId;
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  var LABELS = { approve: "Allow the escrow to take the total", purchase: "Buy the runs" };

  function say(text) { if (message) message.textContent = text; }

  var items = calls.map(function (call) {
    var li = document.createElement("li");
    li.textContent = LABELS[call.step] || call.step;
    stepsList && stepsList.appendChild(li);
    return li;
  });

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(csrf) }, options.headers || {});
    return fetch(path, options).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error((body.error && body.error.message) || ("HTTP " + r.status));
        return body;
      });
    });
  }

  function waitReceipt(eth, hash) {
    return new Promise(function (resolve, reject) {
      var tries = 0;
      (function poll() {
        eth.request({ method: "eth_getTransactionReceipt", params: [hash] }).then(function (receipt) {
          if (receipt) {
            if (receipt.status === "0x1" || receipt.status === 1) return resolve(receipt);
            return reject(new Error("The transaction failed on chain."));
          }
          if (++tries > 240) return reject(new Error("The transaction is taking long; check your wallet."));
          setTimeout(poll, 1000);
        }, reject);
      })();
    });
  }

  function follow() {
    api("/api/v1/purchases/" + id + "/").then(function (p) {
      statusBadge.textContent = p.status.charAt(0).toUpperCase() + p.status.slice(1);
      statusBadge.className = "badge badge--run badge--" + p.status;
      var conf = root.querySelector("[data-purchase-confirmations]");
      if (conf) conf.textContent = p.confirmations;
      var tx = root.querySelector("[data-purchase-tx]");
      if (tx && p.tx_hash) tx.textContent = p.tx_hash;
      if (p.status === "completed") {
        say("Payment confirmed. Taking you to the run page…");
        window.location.assign(root.dataset.runUrl);
      } else if (p.status === "failed") {
        say("The purchase failed: " + (p.failure_reason || "see the receipt."));
      } else {
        say("Waiting for the chain to confirm the payment (" + p.confirmations + " confirmation" + (p.confirmations === 1 ? "" : "s") + ")…");
        setTimeout(follow, 1000);
      }
    }).catch(function () { setTimeout(follow, 2000); });
  }

  function pay() {
    var eth = window.ethereum;
    if (!eth) {
      say("No browser wallet found. Install one (for example MetaMask) and point it at this network; see the README.");
      return;
    }
    button.disabled = true;
    button.textContent = "Working…";
    var chainHex = "0x" + parseInt(root.dataset.chainId, 10).toString(16);
    eth.request({ method: "eth_requestAccounts" }).then(function (accounts) {
      var buyer = root.dataset.buyer.toLowerCase();
      if (!accounts.map(function (a) { return a.toLowerCase(); }).includes(buyer)) {
        throw new Error("Switch your wallet to the account " + root.dataset.buyer + " and try again.");
      }
      return eth.request({ method: "eth_chainId" }).then(function (current) {
        if (parseInt(current, 16) !== parseInt(chainHex, 16)) {
          return eth.request({ method: "wallet_switchEthereumChain", params: [{ chainId: chainHex }] });
        }
      });
    }).then(function () {
      var chain = Promise.resolve();
      var purchaseHash = null;
      calls.forEach(function (call, i) {
        chain = chain.then(function () {
          items[i].dataset.state = "active";
          say("Confirm in your wallet: " + (LABELS[call.step] || call.step) + ".");
          return eth.request({ method: "eth_sendTransaction", params: [{ from: root.dataset.buyer, to: call.to, data: call.data, value: call.value }] });
        }).then(function (hash) {
          if (call.step === "purchase") {
            purchaseHash = hash;
            return api("/api/v1/purchases/" + id + "/confirm/", { method: "POST", body: JSON.stringify({ tx_hash: hash }) }).then(function () { return hash; });
          }
          say("Waiting for the approval to be mined…");
          return waitReceipt(eth, hash);
        }).then(function () { items[i].dataset.state = "done"; });
      });
      return chain.then(function () { return purchaseHash; });
    }).then(function () {
      button.hidden = true;
      follow();
    }).catch(function (error) {
      button.disabled = false;
      button.textContent = "Try again";
      say((error && error.message) || "The wallet refused the request.");
    });
  }

  if (button) button.addEventListener("click", pay);
  if (root.dataset.status === "processing") follow();
})();
