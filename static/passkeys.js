// Passkeys: the browser's side of the WebAuthn ceremonies. The portal
// sends the options (binary values as base64url, as go-webauthn writes
// them); this turns them into what navigator.credentials wants, and the
// credential it gives back into JSON for the portal to check. Pages work
// without it: the password form, the codes, and the confirmation page.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: fromB64url(d.id) };
      if (d.transports) out.transports = d.transports;
      return out;
    });
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    pk.user.id = fromB64url(pk.user.id);
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o, signal) {
    var pk = o.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    var out = { publicKey: pk };
    if (o.mediation) out.mediation = o.mediation;
    if (signal) out.signal = signal;
    return out;
  }

  // The credential as JSON, the shape go-webauthn parses.
  function credentialJSON(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    });
  }

  // post sends fields to path as a form, with the CSRF token, and gives
  // back the JSON reply ({redirect} or {error}).
  function post(path, csrf, fields) {
    var body = new URLSearchParams(fields || {});
    body.set("_csrf", csrf);
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: body,
    }).then(function (res) {
      return res.json().catch(function () {
        return { error: "Something went wrong. Reload the page and try again." };
      });
    });
  }

  function zone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function showError(box, text) {
    var p = box.querySelector("[data-passkey-error]");
    if (!p) return;
    p.textContent = text;
    p.hidden = !text;
  }

  // What to say when the browser's own part ends without a credential.
  function browserError(err) {
    if (err && err.name === "NotAllowedError") return "No passkey was used. Try again, or use another way.";
    if (err && err.name === "InvalidStateError") return "This device already has a passkey for your account.";
    if (err && err.name === "AbortError") return "";
    return "Your browser could not use a passkey here.";
  }

  // signIn runs one ceremony: options from base+"/options", the
  // browser's part, then the answer to base. extra are sent with both.
  // onOptions, if given, learns when the options have arrived (and with
  // them the ceremony's cookie).
  function signIn(base, csrf, extra, box, mediation, signal, onOptions) {
    var optionsPath = base + "/options" + (mediation ? "?mediation=" + mediation : "");
    var options = post(optionsPath, csrf, extra);
    if (onOptions) onOptions(options);
    return options.then(function (opts) {
      if (opts.error || opts.redirect) return opts;
      if (signal && signal.aborted) return {};
      return navigator.credentials.get(requestOptions(opts, signal)).then(function (cred) {
        var fields = Object.assign({ credential: credentialJSON(cred), tz: zone() }, extra || {});
        return post(base, csrf, fields);
      });
    }).then(function (reply) {
      if (reply.redirect) {
        location.assign(reply.redirect);
        return;
      }
      showError(box, reply.error || "");
    }, function (err) {
      var text = browserError(err);
      if (text) showError(box, text);
    });
  }

  // The sign-in page's autofill request. A browser has one ceremony at a
  // time (its cookie), so the button's must begin after the autofill
  // one's options have come back, and the autofill one must then stop.
  var autofill = { controller: null, options: null, stopped: false };

  function startAutofill(box, csrf) {
    if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok || autofill.stopped) return;
      autofill.controller = new AbortController();
      signIn("/login/passkey", csrf, null, box, "conditional", autofill.controller.signal, function (p) {
        autofill.options = p.catch(function () {});
      });
    });
  }

  // stopAutofill ends the autofill request and resolves once nothing of
  // it can still replace the ceremony's cookie.
  function stopAutofill() {
    autofill.stopped = true;
    if (autofill.controller) autofill.controller.abort();
    return autofill.options || Promise.resolve();
  }

  function setUp(box) {
    if (box.hasAttribute("data-passkey-ready")) return;
    box.setAttribute("data-passkey-ready", "");
    var kind = box.getAttribute("data-passkey");
    var csrf = box.getAttribute("data-csrf") || (box.querySelector("input[name=_csrf]") || {}).value;
    box.hidden = false;
    if (kind === "add") {
      box.addEventListener("submit", function (event) {
        event.preventDefault();
        showError(box, "");
        var name = box.querySelector("input[name=name]").value;
        post("/settings/passkeys/options", csrf, { name: name }).then(function (opts) {
          if (opts.error || opts.redirect) return opts;
          return navigator.credentials.create(creationOptions(opts)).then(function (cred) {
            return post("/settings/passkeys", csrf, { credential: credentialJSON(cred) });
          });
        }).then(function (reply) {
          if (reply.redirect) {
            location.assign(reply.redirect);
            return;
          }
          showError(box, reply.error || "");
        }, function (err) {
          showError(box, browserError(err) || "Adding the passkey was cancelled.");
        });
      });
      return;
    }
    var paths = { "sign-in": "/login/passkey", second: "/login/code/passkey", confirm: "/confirm/passkey" };
    var extra = kind === "confirm" ? { next: box.getAttribute("data-next") || "" } : null;
    box.querySelector("button").addEventListener("click", function () {
      showError(box, "");
      stopAutofill().then(function () {
        signIn(paths[kind], csrf, extra, box, "", null);
      });
    });
    if (kind === "sign-in") startAutofill(box, csrf);
  }

  function init() {
    document.querySelectorAll("[data-passkey]").forEach(setUp);
  }

  // Settings sections arrive by htmx too.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.querySelectorAll) elt.querySelectorAll("[data-passkey]").forEach(setUp);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
