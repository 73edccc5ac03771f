// Progressive enhancement for the portal. Everything here also works
// without JavaScript through plain forms and the confirmation page.
(function () {
  "use strict";

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
