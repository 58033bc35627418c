// The plain protocol demo (/demo). A served file, not an inline script: our pages'
// Content-Security-Policy allows no inline script.
// A minimal client of docs/protocol.md: hello/resume, acks, retries of unacked messages.
const log = document.getElementById("log"), statusEl = document.getElementById("status");
const input = document.getElementById("text");
let ws, lastSeq = 0, conversationId = null, backoff = 500, pingTimer;
const pending = new Map();           // client_msg_id -> frame, resent until acked
const seen = new Set();              // seqs already shown

function bubble(sender, text, who) {
  const div = document.createElement("div");
  div.className = "msg " + sender;
  if (who) { const w = document.createElement("span"); w.className = "who"; w.textContent = who; div.append(w); }
  div.append(document.createTextNode(text));
  log.append(div); log.scrollTop = log.scrollHeight;
  return div;
}
function show(m) {
  if (m.conversation_id !== conversationId || seen.has(m.seq)) return;
  seen.add(m.seq); lastSeq = Math.max(lastSeq, m.seq);
  localStorage.setItem("chatdesk.lastSeq", String(lastSeq));
  const who = m.sender === "agent" ? (m.author && m.author.name) : m.sender === "bot" ? "Bot" : null;
  const div = bubble(m.sender, m.text, who);
  if (m.meta && m.meta.kind === "clarify") {
    const box = document.createElement("div"); box.className = "options";
    for (const o of m.meta.options) {
      const b = document.createElement("button"); b.type = "button"; b.className = "secondary";
      b.textContent = o.question; b.onclick = () => send({type: "choice", entry_id: o.entry_id});
      box.append(b);
    }
    const none = document.createElement("button"); none.type = "button"; none.className = "secondary";
    none.textContent = "None of these"; none.onclick = () => send({type: "choice", entry_id: null});
    box.append(none); div.append(box);
  }
}
function showState(s) {
  document.getElementById("email-form").hidden = s.state !== "ticket";
  if (s.state === "queued" && s.queue_position) statusEl.textContent = `Waiting for a person: you are number ${s.queue_position} in the queue.`;
  else if (s.state === "assigned" && s.agent) statusEl.textContent = `You are chatting with ${s.agent.name}.`;
  else if (s.state === "ticket") statusEl.textContent = `Ticket #${s.ticket ? s.ticket.id : ""}: we will reply ${s.ticket && s.ticket.reply_by ? "by " + new Date(s.ticket.reply_by).toLocaleString() : "soon"}.`;
  else if (s.state === "closed") statusEl.textContent = "This conversation is closed. Write to start a new one.";
  else statusEl.textContent = "Connected.";
}
function send(frame) {
  frame.client_msg_id = crypto.randomUUID();
  pending.set(frame.client_msg_id, frame);
  if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
}
function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/visitor");
  ws.onopen = () => {
    const cid = Number(localStorage.getItem("chatdesk.conversation")) || null;
    ws.send(JSON.stringify({type: "hello", token: localStorage.getItem("chatdesk.token"),
      conversation_id: cid, last_seq: cid === conversationId ? lastSeq : 0, page_url: location.origin + location.pathname,
      locale: navigator.language}));
  };
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === "welcome") {
      backoff = 500;
      localStorage.setItem("chatdesk.token", f.token);
      if (f.conversation_id !== conversationId) { conversationId = f.conversation_id; lastSeq = 0; seen.clear(); log.textContent = ""; }
      localStorage.setItem("chatdesk.conversation", String(conversationId));
      showState(f.state);
      for (const p of pending.values()) ws.send(JSON.stringify(p));
      clearInterval(pingTimer); pingTimer = setInterval(() => ws.send('{"type":"ping"}'), f.heartbeat_s * 1000);
    } else if (f.type === "message") { pending.delete(f.client_msg_id); show(f); } // ours: its ack
    else if (f.type === "ack") pending.delete(f.client_msg_id);
    else if (f.type === "state") showState(f);
    else if (f.type === "error") { if (f.ref) pending.delete(f.ref); statusEl.textContent = "Error: " + f.message; }
  };
  ws.onclose = () => {
    clearInterval(pingTimer); statusEl.textContent = "Reconnecting…";
    setTimeout(connect, backoff * (0.5 + Math.random())); backoff = Math.min(backoff * 2, 15000);
  };
}
document.getElementById("send").onsubmit = (e) => {
  e.preventDefault(); const text = input.value.trim(); if (!text) return;
  send({type: "message", text}); input.value = "";
};
document.getElementById("human").onclick = () => send({type: "handoff"});
document.getElementById("email-form").onsubmit = (e) => {
  e.preventDefault(); ws.send(JSON.stringify({type: "email", email: document.getElementById("email").value}));
};
connect();
