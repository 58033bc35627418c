// chatdesk agent console. Speaks docs/protocol.md (agent socket) and the /api/agent REST API.
"use strict";

const TOKEN_KEY = "chatdesk.agentToken";
const TYPING_EVERY_MS = 2000;   // at most one typing frame per 2 s while the agent types
const TYPING_SHOW_MS = 5000;    // hide the visitor's typing line when they go quiet this long
const REFRESH_DEBOUNCE_MS = 150; // several queue events in a burst cause one list reload
const BACKOFF_MAX_MS = 15000;

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem(TOKEN_KEY), me: null, ws: null, pingTimer: null,
  current: null, conv: null, lastSeq: 0, seen: new Set(), queuedIds: null,
  agents: [], canned: [], cannedIndex: 0, lastTypingSent: 0, typingTimer: null,
  refreshTimer: null, backoff: 500, pending: new Map(),
};

async function api(path, opts = {}) {
  const r = await fetch("/api" + path, {...opts, headers: {"Content-Type": "application/json",
    Authorization: "Bearer " + state.token, ...(opts.headers || {})}});
  if (r.status === 401) { logout(); throw new Error("Please log in again."); }
  if (!r.ok) {
    let detail = r.statusText;
    try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return r.status === 204 ? null : r.json();
}
const showError = (e) => { $("error").textContent = e ? (e.message || String(e)) : ""; };
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
};
const fmtTime = (iso) => iso ? new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "";
const fmtDate = (iso) => iso ? new Date(iso).toLocaleString([], {dateStyle: "short", timeStyle: "short"}) : "";
const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());

// --- lists ---------------------------------------------------------------------------------
const LISTS = [["queued", "queued"], ["mine", "mine"], ["tickets", "tickets"], ["open", "open"]];

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refreshLists().catch(showError), REFRESH_DEBOUNCE_MS);
}

async function refreshLists() {
  const results = await Promise.all(LISTS.map(([, f]) => api("/agent/conversations?filter=" + f)));
  LISTS.forEach(([id], i) => renderList(id, results[i]));
  const queued = results[0];
  const ids = new Set(queued.map((c) => c.id));
  if (state.queuedIds) {
    const fresh = [...ids].filter((id) => !state.queuedIds.has(id));
    if (fresh.length) notifyNewQueued(fresh.length);
  }
  state.queuedIds = ids;
  updateTitle(queued.length);
}

function renderList(id, rows) {
  const ul = $("list-" + id);
  ul.textContent = "";
  $("count-" + id).textContent = rows.length;
  if (id === "queued") $("count-queued").classList.toggle("hot", rows.length > 0);
  if (!rows.length) { ul.append(el("li", {className: "empty", textContent: "Nothing here."})); return; }
  for (const c of rows) {
    const label = `#${c.id} · ${c.state}` + (c.escalation_reason ? ` · ${c.escalation_reason.replaceAll("_", " ")}` : "");
    const since = c.queued_at || c.assigned_at || c.created_at;
    const b = el("button", {type: "button", className: c.id === state.current ? "current" : ""},
      label, el("span", {className: "sub", textContent: `visitor ${c.visitor_id} · since ${fmtTime(since)}`}));
    b.dataset.id = c.id;
    b.onclick = () => openConversation(c.id).catch(showError);
    ul.append(el("li", {}, b));
  }
}

function updateTitle(waiting) {
  document.title = (waiting ? `(${waiting} waiting) ` : "") + "chatdesk console";
}

function notifyNewQueued(count) {
  // Sound: a short beep (browsers allow it once the agent has interacted with the page).
  try {
    const ctx = notifyNewQueued.ctx || (notifyNewQueued.ctx = new AudioContext());
    const osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    osc.start(); osc.stop(ctx.currentTime + 0.15);
  } catch (e) { /* no audio: the title still tells */ }
  document.body.dataset.newQueued = String(Number(document.body.dataset.newQueued || 0) + count);
}

// --- one conversation -----------------------------------------------------------------------
function describeMeta(m) {
  const meta = m.meta || {};
  const parts = [];
  if (meta.kind === "answer") {
    parts.push(el("span", {}, "bot answered with ", el("b", {textContent: meta.entry_id || "?"}),
      ` (score ${meta.score ?? "?"}${meta.chosen ? ", chosen by visitor" : ""})`));
  } else if (meta.kind === "clarify") {
    parts.push(el("span", {textContent: `bot asked to clarify (score ${meta.score ?? "?"})`}));
  } else if (meta.kind === "escalate") {
    parts.push(el("span", {}, "escalated: ", el("b", {textContent: (meta.reason || "?").replaceAll("_", " ")})));
  } else if (meta.kind === "transfer") {
    parts.push(el("span", {textContent: "transfer note"}));
  }
  const runners = (meta.candidates || []).filter((c) => c.entry_id !== meta.entry_id);
  if (runners.length) {
    parts.push(el("span", {textContent: " · runner-ups: " +
      runners.map((c) => `${c.entry_id} ${c.score}`).join(", ")}));
  }
  return parts.length ? el("span", {className: "meta"}, ...parts) : null;
}

function whoIs(m) {
  const author = m.author || (m.meta || {}).author || {};
  if (m.sender === "agent") return author.name || "Agent";
  if (m.sender === "note") return (author.name || "Agent") + " · private note";
  if (m.sender === "visitor") return "Visitor";
  if (m.sender === "bot") return "Bot";
  return "";
}

function addMessage(m) {
  if (m.conversation_id !== undefined && m.conversation_id !== state.current) return;
  if (state.seen.has(m.seq)) return;
  state.seen.add(m.seq);
  state.lastSeq = Math.max(state.lastSeq, m.seq);
  const div = el("div", {className: "msg " + m.sender});
  div.dataset.seq = m.seq;
  div.append(el("span", {className: "when", textContent: fmtTime(m.created_at)}));
  const who = whoIs(m);
  if (who) div.append(el("span", {className: "who", textContent: who}));
  div.append(document.createTextNode(m.text));
  const meta = describeMeta(m);
  if (meta) div.append(meta);
  const box = $("transcript");
  // Keep seq order even if a live frame overtook the transcript load.
  const after = [...box.children].find((c) => Number(c.dataset.seq) > m.seq);
  box.insertBefore(div, after || null);
  box.scrollTop = box.scrollHeight;
  if (m.sender === "visitor") hideVisitorTyping();
}

function markFeedback(feedback) {
  for (const f of feedback) {
    const div = document.querySelector(`#transcript .msg[data-seq="${f.seq}"]`);
    if (div && !div.querySelector(".fb")) {
      div.append(el("span", {className: "fb", title: "visitor feedback",
        textContent: f.helpful ? "👍 helpful" : "👎 not helpful"}));
    }
  }
}

async function openConversation(id) {
  showError(null);
  if (state.current && state.current !== id && state.ws?.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({type: "unwatch", conversation_id: state.current}));
  }
  state.current = id; state.lastSeq = 0; state.seen = new Set(); state.canWrite = undefined;
  $("transcript").textContent = "";
  hideVisitorTyping();
  const [t, ctx] = await Promise.all([api(`/agent/conversations/${id}`), api(`/agent/conversations/${id}/context`)]);
  if (state.current !== id) return;
  state.conv = t.conversation;
  for (const m of t.messages) addMessage({...m, conversation_id: id});
  markFeedback(ctx.feedback);
  renderHeader(t.conversation, ctx);
  renderProfile(t.visitor, t.conversation, ctx);
  if (state.ws?.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({type: "watch", conversation_id: id, last_seq: state.lastSeq}));
  }
  document.querySelectorAll(".lists li button").forEach((b) => b.classList.toggle("current", Number(b.dataset.id) === id));
}

function renderHeader(c, ctx) {
  const mine = c.state === "assigned" && c.assigned_agent_id === state.me.id;
  const holder = state.agents.find((a) => a.id === c.assigned_agent_id);
  $("conv-title").textContent = `Conversation #${c.id} · ${c.state}` +
    (c.state === "assigned" ? ` · ${mine ? "you" : (holder ? holder.name : "agent " + c.assigned_agent_id)}` : "") +
    (c.escalation_reason ? ` · ${c.escalation_reason.replaceAll("_", " ")}` : "");
  $("actions").hidden = false;
  $("take").hidden = !["queued", "ticket"].includes(c.state);
  $("transfer").hidden = !mine;
  $("close").hidden = c.state === "closed" || (c.state === "assigned" && !mine);
  $("reopen").hidden = c.state !== "closed";
  $("ticket-status-label").hidden = !ctx.ticket;
  if (ctx.ticket) $("ticket-status").value = ctx.ticket.status;
  const canWrite = mine || c.state === "ticket";
  $("composer").hidden = false;
  $("send").textContent = c.state === "ticket" ? "Reply to ticket" : "Send";
  $("composer-hint").textContent = canWrite ? "" : "Take the conversation to reply; notes are always possible.";
  // Notes are all a bystander can write; whoever may reply starts in reply mode.
  if (canWrite !== state.canWrite) $("note-mode").checked = !canWrite;
  state.canWrite = canWrite;
  $("note-mode").disabled = !canWrite;
  syncNoteMode();
}

function renderProfile(v, c, ctx) {
  const dl = $("profile");
  dl.textContent = "";
  const rows = [["Name", v.name], ["E-mail", v.email], ["Page", v.page_url], ["Locale", v.locale],
    ["First seen", fmtDate(v.created_at)], ["Escalation", (c.escalation_reason || "").replaceAll("_", " ")]];
  if (ctx.ticket) {
    rows.push(["Ticket", `#${ctx.ticket.id} · ${ctx.ticket.status}`]);
    rows.push(["Reply by", fmtDate(ctx.ticket.reply_by)]);
    rows.push(["Ticket e-mail", ctx.ticket.email]);
  }
  if (ctx.rating) rows.push(["Rating", "★".repeat(ctx.rating.stars) + "☆".repeat(5 - ctx.rating.stars) + (ctx.rating.comment ? ` “${ctx.rating.comment}”` : "")]);
  for (const [k, val] of rows) dl.append(el("dt", {textContent: k}), el("dd", {textContent: val || "—"}));
  const hist = $("history"); hist.textContent = "";
  for (const e of ctx.earlier_conversations) {
    const b = el("button", {type: "button", textContent: `#${e.id} · ${e.state} · ${fmtDate(e.created_at)}`});
    b.onclick = () => openConversation(e.id).catch(showError);
    hist.append(el("li", {}, b));
  }
  if (!ctx.earlier_conversations.length) hist.append(el("li", {className: "muted", textContent: "None."}));
  const tl = $("visitor-tickets"); tl.textContent = "";
  for (const t of ctx.tickets) {
    const b = el("button", {type: "button", textContent: `#${t.id} · ${t.status} · ${fmtDate(t.created_at)}`});
    b.onclick = () => openConversation(t.conversation_id).catch(showError);
    tl.append(el("li", {}, b));
  }
  if (!ctx.tickets.length) tl.append(el("li", {className: "muted", textContent: "None."}));
}

function hideVisitorTyping() { $("visitor-typing").hidden = true; $("visitor-typing").textContent = ""; }
function showVisitorTyping(f) {
  const box = $("visitor-typing");
  box.textContent = f.draft ? `Visitor is typing: “${f.draft}”` : "Visitor is typing…";
  box.hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideVisitorTyping, TYPING_SHOW_MS);
}

// --- socket ---------------------------------------------------------------------------------
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/agent");
  state.ws = ws;
  $("conn").textContent = "Connecting…";
  ws.onopen = () => ws.send(JSON.stringify({type: "hello", token: state.token}));
  ws.onmessage = (ev) => onFrame(JSON.parse(ev.data));
  ws.onclose = (ev) => {
    clearInterval(state.pingTimer);
    if (state.ws !== ws || !state.token) return;
    if (ev.code === 1008) { logout(); return; }
    $("conn").textContent = "Reconnecting…";
    const delay = state.backoff * (0.5 + Math.random());
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    setTimeout(() => { if (state.token) connect(); }, delay);
  };
}

function onFrame(f) {
  switch (f.type) {
    case "welcome":
      state.backoff = 500;
      $("conn").textContent = "Connected";
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(() => state.ws.readyState === WebSocket.OPEN && state.ws.send('{"type":"ping"}'), f.heartbeat_s * 1000);
      loadAgents().then(refreshLists).catch(showError);
      if (state.current) openConversation(state.current).catch(showError);
      break;
    case "message":
      if (f.conversation_id === state.current) addMessage(f);
      break;
    case "ack": {
      const done = state.pending.get(f.client_msg_id);
      if (done) { state.pending.delete(f.client_msg_id); done.resolve(); }
      break;
    }
    case "typing":
      if (f.sender === "visitor" && f.conversation_id === state.current) showVisitorTyping(f);
      break;
    case "conversation":
      scheduleRefresh();
      if (f.conversation_id === state.current) reloadCurrentHeader();
      break;
    case "presence": case "status":
      loadAgents().catch(showError);
      break;
    case "resync":
      scheduleRefresh();
      if (state.current) openConversation(state.current).catch(showError);
      break;
    case "error": {
      const waiting = f.ref && state.pending.get(f.ref);
      if (waiting) { state.pending.delete(f.ref); waiting.reject(new Error(f.message)); }
      else showError(new Error(f.message));
      break;
    }
  }
}

async function reloadCurrentHeader() {
  const id = state.current;
  const [t, ctx] = await Promise.all([api(`/agent/conversations/${id}`), api(`/agent/conversations/${id}/context`)]);
  if (state.current !== id) return;
  state.conv = t.conversation;
  renderHeader(t.conversation, ctx);
  renderProfile(t.visitor, t.conversation, ctx);
  markFeedback(ctx.feedback);
}

async function loadAgents() {
  state.agents = await api("/agent/agents");
  const me = state.agents.find((a) => a.id === state.me.id);
  if (me && me.status !== "offline") $("status").value = me.status;
}

// --- composer: replies, notes, canned replies, typing ---------------------------------------
function syncNoteMode() { $("composer").classList.toggle("note-on", $("note-mode").checked); }

function slashWord() {
  const ta = $("text"), upto = ta.value.slice(0, ta.selectionStart);
  const m = upto.match(/(^|\s)\/([\w-]*)$/);
  return m ? {start: upto.length - m[2].length - 1, query: m[2]} : null;
}

async function updateCannedMenu() {
  const word = slashWord(), menu = $("canned-menu");
  if (!word) { menu.hidden = true; return; }
  const ticket = state.cannedTicket = (state.cannedTicket || 0) + 1;
  const rows = await api("/agent/canned?q=" + encodeURIComponent(word.query));
  const still = slashWord();
  // A slower answer to an earlier keystroke, or the word was replaced meanwhile: ignore it.
  if (ticket !== state.cannedTicket || !still || still.query !== word.query) return;
  state.canned = rows; state.cannedIndex = 0;
  menu.textContent = "";
  rows.forEach((r, i) => {
    const li = el("li", {className: "canned-item" + (i === 0 ? " active" : ""), role: "option"},
      el("b", {textContent: "/" + r.shortcut}), " " + r.title, el("span", {className: "sub", textContent: r.text}));
    li.onmousedown = (e) => { e.preventDefault(); insertCanned(r); };
    menu.append(li);
  });
  menu.hidden = rows.length === 0;
}

function insertCanned(r) {
  state.cannedTicket = (state.cannedTicket || 0) + 1;  // drop menus still on their way
  const ta = $("text"), word = slashWord();
  const start = word ? word.start : ta.selectionStart;
  const before = ta.value.slice(0, start), after = ta.value.slice(ta.selectionStart);
  ta.value = before + r.text + after;
  const pos = (before + r.text).length;
  ta.setSelectionRange(pos, pos);
  $("canned-menu").hidden = true;
  ta.focus();
}

function sendTyping() {
  const now = Date.now();
  if (!state.current || now - state.lastTypingSent < TYPING_EVERY_MS || $("note-mode").checked) return;
  if (state.ws?.readyState !== WebSocket.OPEN) return;
  state.lastTypingSent = now;
  state.ws.send(JSON.stringify({type: "typing", conversation_id: state.current}));
}

function sendFrame(frame) {
  return new Promise((resolve, reject) => {
    if (state.ws?.readyState !== WebSocket.OPEN) { reject(new Error("Not connected; try again.")); return; }
    state.pending.set(frame.client_msg_id, {resolve, reject});
    state.ws.send(JSON.stringify(frame));
  });
}

async function submitComposer(e) {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.current) return;
  const client_msg_id = uuid(), id = state.current;
  showError(null);
  try {
    if ($("note-mode").checked) {
      await sendFrame({type: "note", conversation_id: id, client_msg_id, text});
    } else if (state.conv && state.conv.state === "ticket") {
      await api(`/agent/conversations/${id}/ticket-reply`, {method: "POST", body: JSON.stringify({client_msg_id, text})});
    } else {
      await sendFrame({type: "message", conversation_id: id, client_msg_id, text});
    }
    $("text").value = "";
  } catch (err) { showError(err); }
}

// --- actions --------------------------------------------------------------------------------
async function act(path, body) {
  showError(null);
  try {
    await api(`/agent/conversations/${state.current}/${path}`, {method: "POST", body: body ? JSON.stringify(body) : undefined});
    await reloadCurrentHeader();
    scheduleRefresh();
  } catch (err) { showError(err); }
}

async function openTransfer() {
  await loadAgents();
  const sel = $("transfer-to");
  sel.textContent = "";
  for (const a of state.agents.filter((x) => x.id !== state.me.id)) {
    sel.append(el("option", {value: a.id, textContent: `${a.name} (${a.status}, ${a.active}/${a.capacity})`}));
  }
  $("transfer-note").value = "";
  $("transfer-dialog").showModal();
}

// --- canned replies admin -------------------------------------------------------------------
async function loadCannedList() {
  const rows = await api("/agent/canned?q=" + encodeURIComponent($("canned-search").value));
  const ul = $("canned-list"); ul.textContent = "";
  for (const r of rows) {
    const li = el("li", {}, el("code", {textContent: "/" + r.shortcut}), " " + r.title,
      el("span", {className: "sub", textContent: r.text}));
    li.onclick = () => { if (!$("composer").hidden) { $("text").value += r.text; $("text").focus(); } };
    if (state.me.is_admin) {
      const del = el("button", {type: "button", textContent: "Delete", title: "Delete /" + r.shortcut});
      del.onclick = async (e) => { e.stopPropagation(); await api(`/agent/canned/${r.id}`, {method: "DELETE"}); loadCannedList(); };
      li.append(" ", del);
    }
    ul.append(li);
  }
  if (!rows.length) ul.append(el("li", {className: "muted", textContent: "No canned replies."}));
}

// --- login ----------------------------------------------------------------------------------
async function start() {
  state.me = await api("/agent/me");
  $("me-name").textContent = state.me.name + (state.me.is_admin ? " (admin)" : "");
  $("me").hidden = false; $("login").hidden = true; $("app").hidden = false;
  $("canned-form").hidden = !state.me.is_admin;
  api("/agent/hours").then((h) => {
    $("hours").textContent = (h.open_now ? "Open now" : "Closed · opens " + fmtDate(h.next_opening)) + ` · routing: ${h.routing_mode}`;
  }).catch(() => {});
  connect();
  loadCannedList().catch(showError);
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  const ws = state.ws; state.ws = null;
  if (ws) ws.close(1000, "logout");
  clearInterval(state.pingTimer);
  $("me").hidden = true; $("app").hidden = true; $("login").hidden = false;
  state.current = null; state.queuedIds = null;
  updateTitle(0);
}

$("login").onsubmit = async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  const r = await fetch("/api/agent/login", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: $("email").value, password: $("password").value})});
  if (!r.ok) { $("login-error").textContent = "Wrong e-mail or password."; return; }
  state.token = (await r.json()).token;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start().catch(showError);
};
$("logout").onclick = logout;
$("status").onchange = () => state.ws?.send(JSON.stringify({type: "status", status: $("status").value}));
$("take").onclick = () => act("take");
$("close").onclick = () => act("close");
$("reopen").onclick = () => act("reopen");
$("transfer").onclick = () => openTransfer().catch(showError);
$("transfer-cancel").onclick = () => $("transfer-dialog").close();
$("transfer-form").onsubmit = (e) => {
  e.preventDefault();
  $("transfer-dialog").close();
  act("transfer", {to_agent_id: Number($("transfer-to").value), note: $("transfer-note").value});
};
$("ticket-status").onchange = async () => {
  try {
    const ctx = await api(`/agent/conversations/${state.current}/context`);
    await api(`/agent/tickets/${ctx.ticket.id}`, {method: "PATCH", body: JSON.stringify({status: $("ticket-status").value})});
    scheduleRefresh();
  } catch (err) { showError(err); }
};
$("note-mode").onchange = syncNoteMode;
$("composer").onsubmit = submitComposer;
$("text").addEventListener("input", () => { sendTyping(); updateCannedMenu().catch(showError); });
$("text").addEventListener("keydown", (e) => {
  const menu = $("canned-menu");
  if (!menu.hidden && state.canned.length) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      state.cannedIndex = (state.cannedIndex + (e.key === "ArrowDown" ? 1 : -1) + state.canned.length) % state.canned.length;
      [...menu.children].forEach((li, i) => li.classList.toggle("active", i === state.cannedIndex));
      return;
    }
    if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); insertCanned(state.canned[state.cannedIndex]); return; }
    if (e.key === "Escape") { menu.hidden = true; return; }
  }
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
$("text").addEventListener("blur", () => { $("canned-menu").hidden = true; });
$("canned-search").addEventListener("input", () => loadCannedList().catch(showError));
$("canned-form").onsubmit = async (e) => {
  e.preventDefault();
  try {
    await api("/agent/canned", {method: "POST", body: JSON.stringify({
      shortcut: $("canned-shortcut").value, title: $("canned-title").value, text: $("canned-text").value})});
    $("canned-form").reset();
    loadCannedList();
  } catch (err) { showError(err); }
};
document.addEventListener("visibilitychange", () => { if (!document.hidden) delete document.body.dataset.newQueued; });

if (state.token) start().catch(() => logout());
