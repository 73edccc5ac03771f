// Progressive enhancement for the portal. Everything here also works
// without JavaScript through plain forms and the confirmation page.
(function () {
  "use strict";

  // Sign-in: tell the portal the browser's time zone, so exact times are
  // shown in it. Without JavaScript the field stays empty and times are
  // in UTC, which the pages say.
  function fillTimeZone() {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    document.querySelectorAll("input[data-time-zone]").forEach(function (input) {
      input.value = zone;
    });
  }

  // An address naming something inside a closed <details> (a Recently
  // signed out entry) opens it, in browsers that do not do so themselves.
  function revealTarget() {
    var id = "";
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return;
    }
    var target = id && document.getElementById(id);
    if (!target) return;
    for (var d = target.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      d.open = true;
    }
    target.scrollIntoView();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      fillTimeZone();
      revealTarget();
    });
  } else {
    fillTimeZone();
    revealTarget();
  }
  window.addEventListener("hashchange", revealTarget);

  // "Sign out all other devices": with JavaScript, confirm in a <dialog>
  // instead of navigating to the confirmation page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var id = form.getAttribute("data-dialog");
    if (!id) return;
    var dialog = document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    dialog.showModal();
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    if (close) close.closest("dialog").close();
  });

  // After htmx swaps content, put keyboard focus on what changed so it is
  // not lost with the removed button.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt;
    if (!target || !target.isConnected) return;
    var focus = target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]");
    if (focus) focus.focus();
  });

  // A live update names rows by id: a row to replace may not be on this
  // page (it started and ended while the page loaded), and a row to add
  // may be here already (the page was rendered after it started). Drop
  // those parts before the SSE extension swaps the rest in.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    var msg = event.detail;
    if (!msg || typeof msg.data !== "string" || msg.data.indexOf("hx-swap-oob") < 0) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = msg.data;
    var changed = false;
    tpl.content.querySelectorAll("template").forEach(function (inner) {
      inner.content.querySelectorAll("[hx-swap-oob]").forEach(function (el) {
        var how = el.getAttribute("hx-swap-oob");
        var here = how === "true" && el.id ? document.getElementById(el.id) : null;
        if (how === "true" && el.id && !here) {
          el.remove();
          changed = true;
        } else if (here && here.classList.contains("is-ended") && el.classList.contains("is-ended")) {
          // Already shown signed out: this page's own action did it, and
          // said so.
          el.remove();
          changed = true;
        } else if (how.indexOf(":") > 0) {
          var target = how.slice(how.indexOf(":") + 1);
          if (!document.querySelector(target)) {
            el.remove();
            changed = true;
            return;
          }
          el.querySelectorAll("[id]").forEach(function (row) {
            if (document.getElementById(row.id)) {
              row.remove();
              changed = true;
            }
          });
        }
      });
    });
    // Nothing left to show changed: nothing to announce either, so the
    // live region keeps what the page's own action said.
    if (changed && !tpl.content.querySelector("template tr")) {
      var flash = tpl.content.getElementById ? tpl.content.getElementById("flash") : tpl.content.querySelector("#flash");
      if (flash) flash.remove();
    }
    if (changed) msg.data = tpl.innerHTML;
  });

  // Live updates must not close an open confirmation, nor take keyboard
  // focus (or a click under way) from the button that opens it: while
  // there is still something to sign out, only the dialogue's sentence
  // takes the new count. The block is replaced only when that changes
  // (nothing left to sign out), and never under an open dialogue.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var dialog = target && target.querySelector && target.querySelector("dialog");
    if (!dialog) return;
    var fresh = event.detail.fragment.querySelector("#" + dialog.id + " p");
    var current = dialog.querySelector("p");
    if (!fresh && !dialog.open) return;
    if (fresh && current && current.textContent !== fresh.textContent) current.textContent = fresh.textContent;
    event.detail.shouldSwap = false;
  });

  // New sign-in notices: Dismiss removes one, and so does signing the
  // session out from it.
  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest(".live-notice").remove();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var notice = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest(".live-notice");
    if (notice && event.detail.successful) notice.remove();
  });

  // The server names the result of an action in an HX-Trigger
  // "announce" event; the live region reads it out.
  document.addEventListener("announce", function (event) {
    var region = document.getElementById("flash");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "flash-msg";
    p.textContent = event.detail && event.detail.value ? event.detail.value : "";
    region.replaceChildren(p);
  });
})();
