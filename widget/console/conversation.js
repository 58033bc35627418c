// The open conversation: its transcript in seq order (what the bot did shown beside each bot
// message), the header with what this agent may do, the visitor's profile and history, and the
// visitor's live typing.
import { renderAnswer } from "../bubble/format.js";
import { SeqTracker } from "../shared/protocol.js";
import { syncNoteMode } from "./composer.js";
import { $, el, fmtDate, fmtTime, showError } from "./dom.js";
import { languageLabel } from "./language.js";

const TYPING_SHOW_MS = 5000; // hide the visitor's typing line when they go quiet this long
const STARS = 5;

const spaced = (reason) => (reason || "").replaceAll("_", " ");

function describeMeta(m) {
  const meta = m.meta || {};
  const parts = [];
  if (meta.kind === "answer") {
    parts.push(el("span", {}, "bot answered with ", el("b", { textContent: meta.entry_id || "?" }),
      ` (score ${meta.score ?? "?"}${meta.chosen ? ", chosen by visitor" : ""})`));
  } else if (meta.kind === "clarify") {
    parts.push(el("span", { textContent: `bot asked to clarify (score ${meta.score ?? "?"})` }));
  } else if (meta.kind === "escalate") {
    parts.push(el("span", {}, "escalated: ", el("b", { textContent: spaced(meta.reason || "?") })));
  } else if (meta.kind === "transfer") {
    parts.push(el("span", { textContent: "transfer note" }));
  } else if (meta.kind === "email_reply") { // handoff/mail_in.py: anyone with the address may write
    const other = meta.from_ticket_address ? "" : " (not the ticket's address)";
    parts.push(el("span", { textContent: `by e-mail from ${meta.from || "?"}${other}` }));
  }
  const runners = (meta.candidates || []).filter((c) => c.entry_id !== meta.entry_id);
  if (runners.length) {
    parts.push(el("span", { textContent: " · runner-ups: " + runners.map((c) => `${c.entry_id} ${c.score}`).join(", ") }));
  }
  return parts.length ? el("span", { className: "meta" }, ...parts) : null;
}

const MARK_TITLE = {
  verified: "Signed by the website the visitor is logged in to",
  unverified: "Typed by the visitor: anyone can type anything",
};

/** Name, e-mail and user id: what the website signed ("verified") apart from what was typed. */
function identityRows(v) {
  const rows = [];
  if (v.user_id) rows.push(["User id", v.user_id, "verified"]);
  for (const [label, signed, typed] of [["Name", v.verified_name, v.name], ["E-mail", v.verified_email, v.email]]) {
    if (signed) rows.push([label, signed, "verified"]);
    if (typed && typed !== signed) rows.push([signed ? label + " (typed)" : label, typed, "unverified"]);
    if (!signed && !typed) rows.push([label, null, null]);
  }
  return rows;
}

function whoIs(m) {
  const author = m.author || (m.meta || {}).author || {};
  if (m.sender === "agent") return author.name || "Agent";
  if (m.sender === "note") return (author.name || "Agent") + " · private note";
  if (m.sender === "visitor") return "Visitor";
  if (m.sender === "bot") return "Bot";
  return "";
}

/** socket: AgentSocket; auth.me: this agent; roster: agents.js; onOpened(id): after each open. */
export function createConversation({ api, socket, auth, roster, onOpened }) {
  let current = null; // the open conversation's id
  let conv = null; // ...and its row, as the REST API last said
  const seqs = new SeqTracker();
  let canWrite; // whether this agent may reply (not only note); undefined until the first header
  let typingTimer = null;

  function addMessage(m) {
    if (m.conversation_id !== undefined && m.conversation_id !== current) return;
    if (!seqs.add(m.seq)) return; // the transcript load and the live stream overlap
    const div = el("div", { className: "msg " + m.sender });
    div.dataset.seq = m.seq;
    div.append(el("span", { className: "when", textContent: fmtTime(m.created_at) }));
    const who = whoIs(m);
    if (who) div.append(el("span", { className: "who", textContent: who }));
    if (m.sender === "bot") renderAnswer(div, m.text, document); // as the visitor saw it
    else div.append(document.createTextNode(m.text));
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
        div.append(el("span", { className: "fb", title: "visitor feedback", textContent: f.helpful ? "👍 helpful" : "👎 not helpful" }));
      }
    }
  }

  const load = (id) => Promise.all([api(`/agent/conversations/${id}`), api(`/agent/conversations/${id}/context`)]);

  /** Show a conversation: its transcript from REST, then its live messages after that seq. */
  async function open(id) {
    showError(null);
    if (current && current !== id) socket.send({ type: "unwatch", conversation_id: current });
    current = id; seqs.reset(); canWrite = undefined;
    $("transcript").textContent = "";
    hideVisitorTyping();
    const [t, ctx] = await load(id);
    if (current !== id) return;
    conv = t.conversation;
    for (const m of t.messages) addMessage({ ...m, conversation_id: id });
    markFeedback(ctx.feedback);
    renderHeader(t.conversation, ctx);
    renderProfile(t.visitor, t.conversation, ctx);
    socket.send({ type: "watch", conversation_id: id, last_seq: seqs.last });
    onOpened(id);
  }

  /** The conversation changed (taken, transferred, closed): header and profile again. */
  async function reloadHeader() {
    const id = current;
    const [t, ctx] = await load(id);
    if (current !== id) return;
    conv = t.conversation;
    renderHeader(t.conversation, ctx);
    renderProfile(t.visitor, t.conversation, ctx);
    markFeedback(ctx.feedback);
  }

  function renderHeader(c, ctx) {
    const mine = c.state === "assigned" && c.assigned_agent_id === auth.me.id;
    const holder = roster.byId(c.assigned_agent_id);
    $("conv-title").textContent = `Conversation #${c.id} · ${c.state}` +
      (c.state === "assigned" ? ` · ${mine ? "you" : (holder ? holder.name : "agent " + c.assigned_agent_id)}` : "") +
      (c.escalation_reason ? ` · ${spaced(c.escalation_reason)}` : "");
    $("actions").hidden = false;
    $("take").hidden = !["queued", "ticket"].includes(c.state);
    $("transfer").hidden = !mine;
    $("close").hidden = c.state === "closed" || (c.state === "assigned" && !mine);
    $("reopen").hidden = c.state !== "closed";
    $("ticket-status-label").hidden = !ctx.ticket;
    if (ctx.ticket) $("ticket-status").value = ctx.ticket.status;
    const writable = mine || c.state === "ticket";
    $("composer").hidden = false;
    $("send").textContent = c.state === "ticket" ? "Reply to ticket" : "Send";
    $("composer-hint").textContent = writable ? "" : "Take the conversation to reply; notes are always possible.";
    // Notes are all a bystander can write; whoever may reply starts in reply mode.
    if (writable !== canWrite) $("note-mode").checked = !writable;
    canWrite = writable;
    $("note-mode").disabled = !writable;
    syncNoteMode();
  }

  function renderProfile(v, c, ctx) {
    const dl = $("profile");
    dl.textContent = "";
    const rows = [...identityRows(v), ["Page", v.page_url], ["Language", languageLabel(v.locale)],
      ["First seen", fmtDate(v.created_at)], ["Escalation", spaced(c.escalation_reason)]];
    if (ctx.ticket) {
      rows.push(["Ticket", `#${ctx.ticket.id} · ${ctx.ticket.status}`]);
      rows.push(["Reply by", fmtDate(ctx.ticket.reply_by)]);
      rows.push(["Ticket e-mail", ctx.ticket.email]);
    }
    const r = ctx.rating;
    if (r) rows.push(["Rating", "★".repeat(r.stars) + "☆".repeat(STARS - r.stars) + (r.comment ? ` “${r.comment}”` : "")]);
    for (const [k, val, mark] of rows) {
      const dd = el("dd", { textContent: val || "—" });
      if (val && mark) dd.append(" ", el("span", { className: mark, textContent: mark, title: MARK_TITLE[mark] }));
      dl.append(el("dt", { textContent: k }), dd);
    }
    historyList($("history"), ctx.earlier_conversations, (e) => `#${e.id} · ${e.state} · ${fmtDate(e.created_at)}`, (e) => e.id);
    historyList($("visitor-tickets"), ctx.tickets, (t) => `#${t.id} · ${t.status} · ${fmtDate(t.created_at)}`, (t) => t.conversation_id);
  }

  function historyList(ul, rows, label, conversationOf) {
    ul.textContent = "";
    for (const row of rows) {
      const b = el("button", { type: "button", textContent: label(row) });
      b.onclick = () => open(conversationOf(row)).catch(showError);
      ul.append(el("li", {}, b));
    }
    if (!rows.length) ul.append(el("li", { className: "muted", textContent: "None." }));
  }

  function hideVisitorTyping() { $("visitor-typing").hidden = true; $("visitor-typing").textContent = ""; }

  function visitorTyping(f) {
    if (f.conversation_id !== current) return;
    const box = $("visitor-typing");
    box.textContent = f.draft ? `Visitor is typing: “${f.draft}”` : "Visitor is typing…";
    box.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideVisitorTyping, TYPING_SHOW_MS);
  }

  return {
    open, reloadHeader, addMessage, visitorTyping,
    current: () => current,
    conv: () => conv,
    forget() { current = null; }, // logged out
  };
}
