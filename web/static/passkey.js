// Passkeys (WebAuthn) for certdesk's pages: adding one on
// /account/passkeys, signing in with one alone on the sign-in page, and
// using one as the second factor. Each place is an element with
// data-passkey ("register", "signin" or "second") and data-csrf; its
// button (data-passkey-start) is hidden until this script finds WebAuthn,
// and the note data-passkey-unsupported says what is missing otherwise.
// The JSON calls are same-origin POSTs with the X-CSRF-Token header; the
// server answers {"redirect": path} or {"error": text}. No inline code, no
// eval: it runs under the pages' Content-Security-Policy.
(function () {
  "use strict";

  var routes = {
    register: "/account/passkeys/register/",
    signin: "/signin/passkey/",
    second: "/signin/second-factor/passkey/"
  };

  // base64url (no padding) to ArrayBuffer and back.
  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function fromBuffer(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {})
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var e = new Error(data.error || "");
          e.status = resp.status;
          throw e;
        }
        return data;
      });
    });
  }

  // creationOptions turns the server's options for navigator.credentials
  // .create into what the browser takes (buffers for the binary fields).
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return {publicKey: pk};
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return {publicKey: pk};
  }

  function attestation(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: fromBuffer(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: fromBuffer(r.clientDataJSON),
        attestationObject: fromBuffer(r.attestationObject)
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (r.getTransports) {
      out.response.transports = r.getTransports();
    }
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  function assertion(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: fromBuffer(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: fromBuffer(r.clientDataJSON),
        authenticatorData: fromBuffer(r.authenticatorData),
        signature: fromBuffer(r.signature),
        userHandle: r.userHandle ? fromBuffer(r.userHandle) : null
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  function returnPath(box) {
    var ret = box.getAttribute("data-return");
    if (ret === null) {
      ret = new URLSearchParams(window.location.search).get("return") || "";
    }
    return ret;
  }

  function setup(box) {
    var kind = box.getAttribute("data-passkey");
    var csrf = box.getAttribute("data-csrf") || "";
    var button = box.querySelector("[data-passkey-start]");
    var note = box.querySelector("[data-passkey-unsupported]");
    var errorBox = box.querySelector("[data-passkey-error]");
    var nameInput = box.querySelector("[data-passkey-name]");
    if (!button || !routes[kind]) {
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
      return; // the note stays: this browser cannot use passkeys
    }
    if (note) {
      note.hidden = true;
    }
    button.hidden = false;

    function showError(text) {
      if (!errorBox) {
        return;
      }
      errorBox.textContent = text;
      errorBox.hidden = !text;
      var field = box.querySelector("[data-passkey-field]");
      if (field) {
        field.classList.toggle("field-has-error", !!text);
      }
      if (nameInput) {
        if (text) {
          nameInput.setAttribute("aria-invalid", "true");
        } else {
          nameInput.removeAttribute("aria-invalid");
        }
      }
    }

    button.addEventListener("click", function () {
      if (button.disabled) {
        return;
      }
      showError("");
      var name = nameInput ? nameInput.value.trim() : "";
      if (nameInput && !name) {
        showError(nameInput.getAttribute("data-missing") || "");
        nameInput.focus();
        return;
      }
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      var base = routes[kind];
      post(base + "begin", csrf, {name: name}).then(function (options) {
        if (kind === "register") {
          return navigator.credentials.create(creationOptions(options)).then(function (cred) {
            return post(base + "finish", csrf, {name: name, credential: attestation(cred)});
          });
        }
        return navigator.credentials.get(requestOptions(options)).then(function (cred) {
          return post(base + "finish", csrf, {credential: assertion(cred), "return": returnPath(box)});
        });
      }).then(function (data) {
        window.location.assign(data.redirect || "/");
      }).catch(function (err) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        // What the browser said, for whoever looks at the page's code.
        box.setAttribute("data-passkey-failure", err ? String(err.name) + " " + (err.status || "") + ": " + String(err.message) : "");
        // A message from certdesk, else the browser's refusal (the
        // person cancelled, or no passkey was found): the page's own.
        var text = err && err.name === "Error" && err.message ? err.message : (box.getAttribute("data-cancelled") || "");
        showError(text);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < boxes.length; i++) {
      setup(boxes[i]);
    }
  });
})();
