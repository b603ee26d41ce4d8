/*
 * AgentNexus progressive enhancement. The site works without this file:
 * - the phone menu is collapsible behind a toggle (without JS the menu is always shown),
 * - "Copy" buttons copy a one-time value (without JS the value is selectable text),
 * - forms marked data-progress show "Working…" and cannot be submitted twice.
 */
(function () {
  "use strict";

  var doc = document.documentElement;
  doc.classList.add("js");
  window.AgentNexusReady = true; // base.html drops the "js" class on load if this never ran

  var status = document.getElementById("js-status");

  function announce(text) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  /* ------------------------------------------------------------ nav toggle */
  function setupNavToggle() {
    var toggle = document.querySelector("[data-nav-toggle]");
    if (!toggle) return;
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) return;

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    }

    setOpen(false);
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  /* ----------------------------------------------------------- copy button */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  function selectContents(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function setupCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) return;
      var label = button.querySelector("[data-copy-label]") || button;
      var original = label.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(target.textContent.trim()).then(
          function () {
            label.textContent = "Copied";
            announce("Token copied to the clipboard.");
            window.setTimeout(function () {
              label.textContent = original;
            }, 2500);
          },
          function () {
            selectContents(target);
            announce("Copy is not available here. The token is selected: press Control+C or Command+C.");
          }
        );
      });
    });
  }

  /* ------------------------------------------------------ submit progress */
  function resetBusy(form) {
    form.removeAttribute("aria-busy");
    var buttons = form.querySelectorAll("[data-progress-original]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.disabled = false;
      button.innerHTML = button.getAttribute("data-progress-original");
      button.removeAttribute("data-progress-original");
    });
  }

  function setupProgressForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-progress")) return;
      if (form.getAttribute("aria-busy") === "true") {
        event.preventDefault(); // already submitting: no double purchases or double posts
        return;
      }
      if (event.defaultPrevented) return;
      var submitter =
        event.submitter || form.querySelector("button[type=submit], button:not([type]), input[type=submit]");
      form.setAttribute("aria-busy", "true");
      announce("Working…");
      // Disable after the browser has built the form data, so the button's name/value still goes.
      window.setTimeout(function () {
        var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
        Array.prototype.forEach.call(buttons, function (button) {
          if (button.hasAttribute("data-progress-original")) return;
          button.setAttribute("data-progress-original", button.innerHTML);
          button.disabled = true;
          if (button === submitter && button.tagName === "BUTTON") {
            button.innerHTML =
              '<span class="progress-spinner" aria-hidden="true"></span> Working…';
          }
        });
      }, 0);
    });

    // Coming back with the Back button restores a page from the cache: make its forms usable again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      Array.prototype.forEach.call(document.querySelectorAll("form[data-progress]"), resetBusy);
    });
  }

  function init() {
    setupNavToggle();
    setupCopyButtons();
    setupProgressForms();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
