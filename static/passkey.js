// Cognate's passkey script (issue 13): the only script the hosted pages run. A passkey
// button (data-passkey-purpose, data-passkey-options) sits in a form with hidden
// `ceremony` and `credential` inputs. The button asks the server for the ceremony's
// options, runs navigator.credentials.create() or .get(), and posts the
// PublicKeyCredential as JSON (base64url fields) with its form. Without WebAuthn the
// button stays hidden and the page's message says why.
(function () {
  "use strict";
  if (window.cognatePasskey) { return; }
  window.cognatePasskey = true;

  function toBuffer(b64url) {
    var b64 = String(b64url).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The server's options (webauthn-rs' JSON) with the binary members as ArrayBuffers.
  function decodeOptions(o) {
    o.challenge = toBuffer(o.challenge);
    if (o.user && o.user.id) { o.user.id = toBuffer(o.user.id); }
    ["excludeCredentials", "allowCredentials"].forEach(function (list) {
      if (Array.isArray(o[list])) {
        o[list] = o[list].map(function (c) {
          var copy = Object.assign({}, c);
          copy.id = toBuffer(c.id);
          return copy;
        });
      }
    });
    return o;
  }

  function encodeCredential(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = toBase64url(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: response,
      extensions: typeof cred.getClientExtensionResults === "function"
        ? cred.getClientExtensionResults() : {}
    };
  }

  function field(form, name) {
    var input = form.querySelector('input[name="' + name + '"]');
    return input ? input.value : null;
  }

  function fail(form, text) {
    var box = form.querySelector("[data-passkey-error]");
    if (!box) { return; }
    box.textContent = text || box.getAttribute("data-failed") || "";
    box.hidden = false;
  }

  function run(button) {
    var form = button.form || button.closest("form");
    if (!form) { return; }
    var purpose = button.getAttribute("data-passkey-purpose");
    var body = new URLSearchParams();
    ["_csrf", "flow", "client_id", "username"].forEach(function (name) {
      var v = field(form, name);
      if (v !== null) { body.append(name, v); }
    });
    body.append("purpose", purpose);
    button.disabled = true;
    fetch(button.getAttribute("data-passkey-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (res) {
      return res.json().then(function (json) {
        // A session too old for a change: sign in again first.
        if (json.login) { window.location.assign(json.login); throw new Error(""); }
        if (!res.ok || !json.publicKey) { throw new Error(json.error || ""); }
        return json;
      });
    }).then(function (json) {
      var publicKey = decodeOptions(json.publicKey);
      var call = purpose === "register"
        ? navigator.credentials.create({ publicKey: publicKey })
        : navigator.credentials.get({ publicKey: publicKey });
      return call.then(function (cred) {
        if (!cred) { throw new Error(""); }
        form.querySelector('input[name="ceremony"]').value = json.ceremony;
        form.querySelector('input[name="credential"]').value =
          JSON.stringify(encodeCredential(cred));
        form.submit();
      });
    }).catch(function (e) {
      button.disabled = false;
      fail(form, e && e.message && e.name === "Error" ? e.message : null);
    });
  }

  function start() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials &&
      typeof navigator.credentials.create === "function" && window.fetch);
    var buttons = document.querySelectorAll("[data-passkey-purpose]");
    Array.prototype.forEach.call(buttons, function (button) {
      if (!supported) { return; }
      var form = button.form || button.closest("form");
      var message = form && form.querySelector("[data-passkey-message]");
      if (message) { message.hidden = true; }
      button.hidden = false;
      button.addEventListener("click", function () { run(button); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
