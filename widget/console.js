// chatdesk agent console (/agent). Speaks docs/protocol.md (agent socket) and the /api/agent
// REST API. No build step: GET /static/console.js serves this file and the modules it imports
// joined into one script (app/widget_routes.py).
import { createActions } from "./console/actions.js";
import { AgentSocket } from "./console/agent_socket.js";
import { createRoster } from "./console/agents.js";
import { createApi } from "./console/api.js";
import { createCannedAdmin } from "./console/canned_admin.js";
import { createComposer } from "./console/composer.js";
import { createConversation } from "./console/conversation.js";
import { $, fmtDate, showError } from "./console/dom.js";
import { createLists, updateTitle } from "./console/lists.js";
import { createProfile } from "./console/profile.js";
import { createSilentWarnings } from "./console/silent.js";
import { createNotifier } from "./console/notify.js";
import { startSlaTicker } from "./console/sla.js";

const TOKEN_KEY = "chatdesk.agentToken"; // sessionStorage: one login per tab, gone with the tab
const CONNECTION_TEXT = { connecting: "Connecting…", online: "Connected", reconnecting: "Reconnecting…" };

const auth = { token: sessionStorage.getItem(TOKEN_KEY), me: null };
const api = createApi({ token: () => auth.token, onUnauthorized: logout });
const socket = new AgentSocket({
  url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/agent",
  token: () => auth.token,
  WebSocket: window.WebSocket,
  onFrame,
  onStatus: (s) => { $("conn").textContent = CONNECTION_TEXT[s]; },
  onRefused: logout,
});
const roster = createRoster({ api, auth });
const open = (id) => conversation.open(id).catch(showError);
const notifier = createNotifier(window); // desktop notifications of new chats
let slaTicker = null;
const lists = createLists({ api, current: () => conversation.current(), onOpen: open, notifier });
const conversation = createConversation({ api, socket, auth, roster, onOpened: (id) => lists.markCurrent(id) });
const cannedAdmin = createCannedAdmin({ api, auth });
createComposer({ api, socket, conversation });
createActions({ api, conversation, lists, roster });
createProfile({ api, auth, onChanged: showMe });
const silent = createSilentWarnings({ auth, onOpen: open });

function onFrame(f) {
  const current = conversation.current();
  switch (f.type) {
    case "welcome": // (re)connected: lists and the open conversation may have missed events
      roster.load().then(lists.refresh).catch(showError);
      if (current) open(current);
      break;
    case "message":
      if (f.conversation_id === current) conversation.addMessage(f);
      silent.update(f);
      break;
    case "typing":
      if (f.sender === "visitor") conversation.visitorTyping(f);
      break;
    case "conversation":
      silent.update(f);
      lists.scheduleRefresh();
      if (f.conversation_id === current) conversation.reloadHeader().catch(showError);
      break;
    case "presence": case "status":
      roster.load().catch(showError);
      break;
    case "agent_silent":
      silent.warn(f);
      break;
    case "resync":
      lists.scheduleRefresh();
      if (current) open(current);
      break;
    case "error":
      showError(new Error(f.message));
      break;
  }
}

// --- login ----------------------------------------------------------------------------------
async function start() {
  showMe(await api("/agent/me"));
  $("me").hidden = false; $("login").hidden = true; $("app").hidden = false;
  $("canned-form").hidden = !auth.me.is_admin;
  $("admin-link").hidden = !auth.me.is_admin;
  if (auth.me.is_admin && new URLSearchParams(location.search).get("next") === "/admin") return toAdmin();
  api("/agent/hours").then((h) => {
    $("hours").textContent = (h.open_now ? "Open now" : "Closed · opens " + fmtDate(h.next_opening)) + ` · routing: ${h.routing_mode}`;
  }).catch(() => {});
  socket.connect();
  cannedAdmin.load().catch(showError);
  slaTicker ??= startSlaTicker(); // once per page: logging in again keeps the one ticker
}

function showMe(me) {
  auth.me = me;
  $("me-name").textContent = me.name + (me.is_admin ? " (admin)" : "");
}

/** To /admin with this tab's login (the page checks it by the cookie /page-login sets). */
async function toAdmin() {
  await api("/agent/page-login", { method: "POST" });
  location.assign("/admin");
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  auth.token = null;
  socket.close();
  $("me").hidden = true; $("app").hidden = true; $("login").hidden = false;
  conversation.forget();
  lists.reset();
  silent.reset();
  updateTitle(0);
}

$("login").onsubmit = async (e) => {
  e.preventDefault();
  notifier.ask(); // a user gesture: the one moment browsers let a page ask
  $("login-error").textContent = "";
  const r = await fetch("/api/agent/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value }) });
  if (r.status === 429) {
    $("login-error").textContent = `Too many failed attempts: try again in ${r.headers.get("Retry-After") || "a few"} seconds.`;
    return;
  }
  if (!r.ok) { $("login-error").textContent = "Wrong e-mail or password."; return; }
  auth.token = (await r.json()).token;
  sessionStorage.setItem(TOKEN_KEY, auth.token);
  start().catch(showError);
};
$("logout").onclick = () => {
  // End the token on the server too (every replica refuses it from now on), then here; if
  // that request fails the token still lapses at its expiry.
  const token = auth.token;
  fetch("/api/agent/logout", { method: "POST", keepalive: true, headers: { Authorization: "Bearer " + token } })
    .catch(() => {});
  logout();
};
$("admin-link").onclick = (e) => { e.preventDefault(); toAdmin().catch(showError); };
$("status").onchange = () => socket.send({ type: "status", status: $("status").value });
document.addEventListener("click", () => notifier.ask(), { once: true }); // a tab kept logged in
document.addEventListener("visibilitychange", () => { if (!document.hidden) delete document.body.dataset.newQueued; });

if (auth.token) start().catch(() => logout());
