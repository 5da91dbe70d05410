// The account page: log in (password, then a second factor when asked, or a passkey), see and
// revoke sessions, set up TOTP (QR code rendered by hexgate), recovery codes, passkeys.
// Plain JavaScript, no build step, no third-party code; tokens live in memory only.
"use strict";

const $ = (id) => document.getElementById(id);
const API = "/api/v1/auth";
let tokens = null;
let mfaToken = null;

const show = (el, on) => { el.hidden = !on; };
const text = (id, value) => { $(id).textContent = value; };

async function call(method, path, body) {
  const headers = {};
  if (tokens) headers.Authorization = "Bearer " + tokens.access_token;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (_) { data = null; }
  }
  return { status: response.status, ok: response.ok, data };
}

const detail = (r) => (r.data && r.data.detail) || ("HTTP " + r.status);

// ---- WebAuthn: base64url ⇄ bytes -------------------------------------------------------------
function fromB64url(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
}
function toB64url(buffer) {
  let s = "";
  for (const b of new Uint8Array(buffer)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function creationOptions(o) {
  const opts = { ...o, challenge: fromB64url(o.challenge), user: { ...o.user, id: fromB64url(o.user.id) } };
  opts.excludeCredentials = (o.excludeCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) }));
  return opts;
}
function requestOptions(o) {
  const opts = { ...o, challenge: fromB64url(o.challenge) };
  opts.allowCredentials = (o.allowCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) }));
  return opts;
}
function registrationJSON(cred) {
  return {
    id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
    response: {
      clientDataJSON: toB64url(cred.response.clientDataJSON),
      attestationObject: toB64url(cred.response.attestationObject),
      transports: cred.response.getTransports ? cred.response.getTransports() : [],
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}
function assertionJSON(cred) {
  const r = cred.response;
  return {
    id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
    response: {
      clientDataJSON: toB64url(r.clientDataJSON),
      authenticatorData: toB64url(r.authenticatorData),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

// ---- signing in and out ----------------------------------------------------------------------
async function signedIn(pair) {
  tokens = pair;
  mfaToken = null;
  $("login-form").reset();
  $("mfa-form").reset();
  show($("mfa-form"), false);
  show($("login-form"), true);
  text("login-error", "");
  show($("signed-out"), false);
  show($("signed-in"), true);
  await refresh();
}

function signedOut() {
  tokens = null;
  show($("signed-in"), false);
  show($("signed-out"), true);
  show($("recovery"), false);
  show($("totp-enrol"), false);
  ["totp-error", "passkey-error", "whoami"].forEach((id) => text(id, ""));
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text("login-error", "");
  const r = await call("POST", API + "/token", { username: $("username").value, password: $("password").value });
  if (r.ok) return signedIn(r.data);
  if (r.status === 403 && r.data && r.data.code === "mfa_required") {
    mfaToken = r.data.mfa_token;
    show($("login-form"), false);
    show($("mfa-form"), true);
    $("mfa-code").focus();
    return;
  }
  text("login-error", detail(r));
});

$("mfa-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("mfa-code").value.trim();
  const recovery = $("mfa-recovery").value.trim();
  const body = recovery ? { mfa_token: mfaToken, recovery_code: recovery } : { mfa_token: mfaToken, code };
  const r = await call("POST", API + "/mfa/verify", body);
  if (r.ok) return signedIn(r.data);
  text("login-error", detail(r));
  if (r.status === 401 && r.data && r.data.code === "not_authenticated") {
    // The token is spent, expired or dead: start again with the password.
    show($("mfa-form"), false);
    show($("login-form"), true);
  }
});

$("passkey-login").addEventListener("click", async () => {
  text("login-error", "");
  try {
    const start = await call("POST", API + "/passkeys/login/start", {});
    if (!start.ok) return text("login-error", detail(start));
    const cred = await navigator.credentials.get({ publicKey: requestOptions(start.data.options) });
    const r = await call("POST", API + "/passkeys/login/finish",
      { challenge_id: start.data.challenge_id, credential: assertionJSON(cred) });
    if (r.ok) return signedIn(r.data);
    text("login-error", detail(r));
  } catch (e) {
    text("login-error", "Passkey login failed: " + e.message);
  }
});

$("logout").addEventListener("click", async () => {
  await call("POST", API + "/logout", { refresh_token: tokens.refresh_token });
  signedOut();
});

// ---- what the account has --------------------------------------------------------------------
async function refresh() {
  const me = await call("GET", "/api/v1/users/me");
  if (me.status === 401) return signedOut();
  text("whoami", me.data.username);
  await Promise.all([refreshMfa(), refreshPasskeys(), refreshSessions()]);
}

async function refreshMfa() {
  const r = await call("GET", API + "/mfa");
  if (!r.ok) return;
  const s = r.data;
  text("mfa-status", "TOTP: " + (s.totp ? "on" : "off") + " · recovery codes left: " + s.recovery_codes_left +
    " · passkeys: " + s.passkeys);
  show($("totp-off"), !s.totp);
  show($("totp-on"), s.totp);
}

async function refreshPasskeys() {
  const r = await call("GET", API + "/passkeys");
  const list = $("passkeys");
  list.replaceChildren();
  for (const p of r.data || []) {
    const li = document.createElement("li");
    li.textContent = p.name + " (added " + p.created_at + ") ";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.className = "passkey-remove";
    remove.addEventListener("click", async () => {
      const d = await call("DELETE", API + "/passkeys/" + p.id);
      if (!d.ok) text("passkey-error", detail(d));
      await refresh();
    });
    li.append(remove);
    list.append(li);
  }
}

async function refreshSessions() {
  const r = await call("GET", API + "/sessions");
  const list = $("sessions");
  list.replaceChildren();
  for (const s of r.data || []) {
    const li = document.createElement("li");
    li.textContent = (s.current ? "this session" : "session") + " · since " + s.created_at +
      " · " + (s.user_agent || "unknown client") + " ";
    li.dataset.current = String(s.current);
    if (!s.current) {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.textContent = "Revoke";
      revoke.className = "session-revoke";
      revoke.addEventListener("click", async () => {
        await call("DELETE", API + "/sessions/" + s.id);
        await refreshSessions();
      });
      li.append(revoke);
    }
    list.append(li);
  }
}

// ---- TOTP and recovery codes -----------------------------------------------------------------
function showCodes(codes) {
  const list = $("recovery-codes");
  list.replaceChildren(...codes.map((c) => { const li = document.createElement("li"); li.textContent = c; return li; }));
  show($("recovery"), true);
}

$("totp-start").addEventListener("click", async () => {
  text("totp-error", "");
  const r = await call("POST", API + "/mfa/totp", {});
  if (!r.ok) return text("totp-error", detail(r));
  text("totp-secret", r.data.secret);
  const qr = await fetch("/account/qr.svg", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: r.data.otpauth_uri }),
  });
  if (qr.ok) $("totp-qr").src = URL.createObjectURL(await qr.blob());
  show($("totp-enrol"), true);
  $("totp-code").focus();
});

$("totp-confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text("totp-error", "");
  const r = await call("POST", API + "/mfa/totp/confirm", { code: $("totp-code").value.trim() });
  if (!r.ok) return text("totp-error", detail(r));
  $("totp-code").value = "";
  show($("totp-enrol"), false);
  showCodes(r.data.recovery_codes);
  await refreshMfa();
});

$("recovery-regenerate").addEventListener("click", async () => {
  text("totp-error", "");
  const r = await call("POST", API + "/mfa/recovery-codes", { password: $("totp-password").value });
  if (!r.ok) return text("totp-error", detail(r));
  $("totp-password").value = "";
  showCodes(r.data.recovery_codes);
  await refreshMfa();
});

$("totp-disable").addEventListener("click", async () => {
  text("totp-error", "");
  const r = await call("POST", API + "/mfa/totp/disable", { password: $("totp-password").value });
  if (!r.ok) return text("totp-error", detail(r));
  $("totp-password").value = "";
  show($("recovery"), false);
  await refreshMfa();
});

// ---- passkeys --------------------------------------------------------------------------------
$("passkey-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text("passkey-error", "");
  try {
    const start = await call("POST", API + "/passkeys/register/start", {});
    if (!start.ok) return text("passkey-error", detail(start));
    const cred = await navigator.credentials.create({ publicKey: creationOptions(start.data.options) });
    const r = await call("POST", API + "/passkeys/register/finish",
      { challenge_id: start.data.challenge_id, name: $("passkey-name").value, credential: registrationJSON(cred) });
    if (!r.ok) return text("passkey-error", detail(r));
    await refresh();
  } catch (e) {
    text("passkey-error", "Could not add the passkey: " + e.message);
  }
});
