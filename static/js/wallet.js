/*
 * Link a wallet / log in with a wallet: Sign-In with Ethereum (EIP-4361) through the browser
 * wallet (EIP-1193, window.ethereum). No library, no build step.
 *
 * Markup: templates/payments/_wallet_connect.html ([data-wallet-connect] with data-purpose,
 * data-nonce-url, data-submit-url, data-next, a CSRF input, a hidden [data-wallet-start] button,
 * a [data-wallet-status] live region and a [data-wallet-error] alert).
 *
 * Steps: eth_requestAccounts -> POST nonce-url {purpose, address} (the server writes the exact
 * message, with the address's EIP-55 checksum) -> wallet_switchEthereumChain if the wallet is on
 * another chain (wallet_addEthereumChain for a local dev chain it does not know) -> personal_sign
 * -> POST submit-url {message, signature, next} -> go to the returned page.
 */
(function () {
  "use strict";

  if (window.AgentNexusWallet) return; // the partial may be included more than once
  window.AgentNexusWallet = true;

  var NO_WALLET =
    "No browser wallet was found. Install a wallet extension such as MetaMask or Rabby (or open " +
    "this page in your wallet app's built-in browser), then reload this page and try again.";

  function UserFacingError(message) {
    this.message = message;
    this.userFacing = true;
  }

  function utf8ToHex(text) {
    var bytes = new TextEncoder().encode(text);
    var hex = "0x";
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return hex;
  }

  function errorCode(error) {
    if (!error) return undefined;
    if (typeof error.code === "number") return error.code;
    var inner = error.data && (error.data.originalError || error.data);
    return inner && typeof inner.code === "number" ? inner.code : undefined;
  }

  /* Wallet (EIP-1193 / JSON-RPC) errors, in words a person can act on. */
  function describeWalletError(error) {
    switch (errorCode(error)) {
      case 4001:
        return "You declined the request in your wallet. Nothing was changed.";
      case -32002:
        return "Your wallet is already showing a request. Open your wallet, approve or dismiss it, then try again.";
      case 4100:
        return "Your wallet has not authorised this site. Unlock your wallet and try again.";
      case 4900:
      case 4901:
        return "Your wallet is not connected to a network. Check its network settings and try again.";
      default:
        return (
          "Your wallet reported a problem" +
          (error && error.message ? ": " + error.message : "") +
          ". Try again, or reload the page."
        );
    }
  }

  function post(url, body, csrfToken) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify(body),
    }).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) return data;
            var message = data && data.error && data.error.message;
            if (!message && response.status === 403) {
              message = "The page has expired or you were logged out. Reload the page and try again.";
            }
            throw new UserFacingError(
              message || "AgentNexus answered with an error (" + response.status + "). Reload the page and try again."
            );
          });
      },
      function () {
        throw new UserFacingError("Could not reach AgentNexus. Check your connection and try again.");
      }
    );
  }

  function hexChainId(id) {
    return "0x" + Number(id).toString(16);
  }

  /* Put the wallet on the site's chain, asking it to add a local dev chain it does not know. */
  function ensureChain(provider, chain, say) {
    var wrongChain = new UserFacingError(
      "Your wallet is on another network. Switch it to " + chain.chain_name + " (chain id " +
        chain.chain_id + ") and try again."
    );
    function current() {
      return provider.request({ method: "eth_chainId" }).then(function (id) {
        return parseInt(id, 16);
      });
    }
    return current().then(function (id) {
      if (id === chain.chain_id) return undefined;
      say("Switching your wallet to " + chain.chain_name + " (chain id " + chain.chain_id + ")…");
      return provider
        .request({ method: "wallet_switchEthereumChain", params: [{ chainId: hexChainId(chain.chain_id) }] })
        .catch(function (error) {
          if (errorCode(error) === 4902 && chain.chain_rpc_url) {
            say("Adding the " + chain.chain_name + " network to your wallet…");
            return provider.request({
              method: "wallet_addEthereumChain",
              params: [
                {
                  chainId: hexChainId(chain.chain_id),
                  chainName: "AgentNexus local",
                  rpcUrls: [chain.chain_rpc_url],
                  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
                },
              ],
            });
          }
          if (errorCode(error) === 4001) throw error;
          throw wrongChain;
        })
        .then(current)
        .then(function (now) {
          if (now !== chain.chain_id) throw wrongChain;
        });
    });
  }

  function setup(root) {
    var button = root.querySelector("[data-wallet-start]");
    var status = root.querySelector("[data-wallet-status]");
    var alertBox = root.querySelector("[data-wallet-error]");
    var csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
    if (!button || !status || !alertBox) return;
    var purpose = root.getAttribute("data-purpose");
    var nonceUrl = root.getAttribute("data-nonce-url");
    var submitUrl = root.getAttribute("data-submit-url");
    var next = root.getAttribute("data-next") || "";
    var label = button.querySelector("span") || button;
    var idleLabel = label.textContent;
    var working = false;

    function say(text) {
      alertBox.hidden = true;
      alertBox.textContent = "";
      status.textContent = text;
    }

    function fail(text) {
      status.textContent = "";
      alertBox.textContent = text;
      alertBox.hidden = false;
    }

    function setBusy(busy) {
      working = busy;
      button.disabled = busy;
      root.setAttribute("aria-busy", busy ? "true" : "false");
      label.textContent = busy ? "Working…" : idleLabel;
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      if (working) return;
      var provider = window.ethereum;
      if (!provider || typeof provider.request !== "function") {
        fail(NO_WALLET);
        return;
      }
      var address;
      var message;
      setBusy(true);
      say("Asking your wallet for an account. Approve the request in your wallet…");
      provider
        .request({ method: "eth_requestAccounts" })
        .then(function (accounts) {
          if (!accounts || !accounts.length) {
            throw new UserFacingError("Your wallet shared no account. Unlock it, choose an account and try again.");
          }
          address = accounts[0];
          say("Preparing the message to sign…");
          return post(nonceUrl, { purpose: purpose, address: address }, csrfInput ? csrfInput.value : "");
        })
        .then(function (data) {
          message = data.message;
          return ensureChain(provider, data.chain, say);
        })
        .then(function () {
          say("Sign the message in your wallet. Signing is free and sends no transaction…");
          return provider.request({ method: "personal_sign", params: [utf8ToHex(message), address] });
        })
        .then(function (signature) {
          say("Checking the signature…");
          return post(
            submitUrl,
            { message: message, signature: signature, next: next },
            csrfInput ? csrfInput.value : ""
          );
        })
        .then(function (data) {
          say(purpose === "login" ? "You are logged in. Opening your page…" : "Wallet linked. Reloading…");
          window.location.assign(data.redirect || window.location.href);
        })
        .catch(function (error) {
          setBusy(false);
          fail(error && error.userFacing ? error.message : describeWalletError(error));
          button.focus();
        });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-wallet-connect]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
