// The chat page: log in with the API's token endpoint, then talk over /ws/{client_id}?token=…
// Everything shown is set as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let token = null;
let socket = null;

function setStatus(text, state) {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

function show(text, kind) {
  const item = document.createElement("li");
  item.textContent = text;
  if (kind) item.className = kind;
  $("messages").appendChild(item);
  $("messages").scrollTop = $("messages").scrollHeight;
}

function connected(on) {
  $("connect").disabled = on || !token;
  $("disconnect").disabled = !on;
  $("message").disabled = !on;
  $("send").disabled = !on;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new URLSearchParams({ username: $("username").value, password: $("password").value });
  try {
    const response = await fetch("/api/v1/auth/token", { method: "POST", body });
    const data = await response.json();
    if (!response.ok) {
      setStatus(data.detail || "login failed", "error");
      return;
    }
    token = data.access_token;
    if (!$("client-id").value) $("client-id").value = $("username").value.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
    setStatus("logged in", "ready");
    connected(false);
  } catch (err) {
    setStatus("login failed: " + err, "error");
  }
});

$("connect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!token) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const id = encodeURIComponent($("client-id").value);
  socket = new WebSocket(`${scheme}://${location.host}/ws/${id}?token=${encodeURIComponent(token)}`);
  setStatus("connecting", "connecting");
  socket.addEventListener("open", () => {
    setStatus("connected", "connected");
    connected(true);
  });
  socket.addEventListener("message", (msg) => {
    const text = String(msg.data);
    const kind = text.startsWith("You wrote: ") ? "own" : text.endsWith(" left the chat") ? "notice" : "";
    show(text, kind);
  });
  socket.addEventListener("close", (ev) => {
    const why = ev.code === 4001 ? "replaced by another connection"
      : ev.code === 4401 ? "session ended: log in again"
      : ev.reason || "closed";
    setStatus(`disconnected (${ev.code}: ${why})`, ev.code === 1000 ? "idle" : "error");
    connected(false);
    socket = null;
  });
});

$("disconnect").addEventListener("click", () => socket && socket.close(1000, "bye"));

$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value;
  if (!socket || socket.readyState !== WebSocket.OPEN || text === "") return;
  socket.send(text);
  $("message").value = "";
});
