// Writing in the open conversation: a reply (over the socket, or REST for a ticket), a private
// note, /shortcut canned replies with a keyboard menu, and "agent is typing" for the visitor.
import { newClientMsgId } from "../shared/protocol.js";
import { $, el, showError } from "./dom.js";
import { cannedIdFor, forgetCanned, noteCanned } from "./canned_use.js";

const TYPING_EVERY_MS = 2000; // at most one typing frame per 2 s while the agent types

/** The composer's look follows the "Private note" switch. */
export function syncNoteMode() { $("composer").classList.toggle("note-on", $("note-mode").checked); }

/** The /word being typed just before the caret, if any. */
function slashWord() {
  const ta = $("text"), upto = ta.value.slice(0, ta.selectionStart);
  const m = upto.match(/(^|\s)\/([\w-]*)$/);
  return m ? { start: upto.length - m[2].length - 1, query: m[2] } : null;
}

/** conversation: conversation.js (current(), conv()); socket: AgentSocket. */
export function createComposer({ api, socket, conversation }) {
  let canned = [], cannedIndex = 0;
  let menuTicket = 0; // numbers menu requests: only the newest may draw the menu
  let lastTypingSent = 0;
  // A send that failed keeps its client_msg_id while the same text goes to the same place
  // again, so a message the server stored before the connection dropped is not stored twice.
  let lastTry = null;

  async function updateCannedMenu() {
    const word = slashWord(), menu = $("canned-menu");
    if (!word) { menu.hidden = true; return; }
    const ticket = ++menuTicket;
    const rows = await api("/agent/canned?q=" + encodeURIComponent(word.query));
    const still = slashWord();
    // A slower answer to an earlier keystroke, or the word was replaced meanwhile: ignore it.
    if (ticket !== menuTicket || !still || still.query !== word.query) return;
    canned = rows; cannedIndex = 0;
    menu.textContent = "";
    rows.forEach((r, i) => {
      const li = el("li", { className: "canned-item" + (i === 0 ? " active" : ""), role: "option" },
        el("b", { textContent: "/" + r.shortcut }), " " + r.title, el("span", { className: "sub", textContent: r.text }));
      li.onmousedown = (e) => { e.preventDefault(); insertCanned(r); };
      menu.append(li);
    });
    menu.hidden = rows.length === 0;
  }

  function insertCanned(r) {
    menuTicket++; // drop menus still on their way
    const ta = $("text"), word = slashWord();
    const start = word ? word.start : ta.selectionStart;
    const before = ta.value.slice(0, start), after = ta.value.slice(ta.selectionStart);
    ta.value = before + r.text + after;
    const pos = (before + r.text).length;
    ta.setSelectionRange(pos, pos);
    $("canned-menu").hidden = true;
    noteCanned(r);
    ta.focus();
  }

  function sendTyping() {
    const now = Date.now();
    const id = conversation.current();
    if (!id || now - lastTypingSent < TYPING_EVERY_MS || $("note-mode").checked) return;
    if (socket.send({ type: "typing", conversation_id: id })) lastTypingSent = now;
  }

  function clientMsgId(kind, id, text) {
    if (lastTry && lastTry.kind === kind && lastTry.id === id && lastTry.text === text) return lastTry.cmid;
    lastTry = { kind, id, text, cmid: newClientMsgId() };
    return lastTry.cmid;
  }

  async function submit(e) {
    e.preventDefault();
    const text = $("text").value.trim();
    const id = conversation.current();
    if (!text || !id) return;
    const conv = conversation.conv();
    const kind = $("note-mode").checked ? "note" : conv && conv.state === "ticket" ? "ticket" : "message";
    const client_msg_id = clientMsgId(kind, id, text);
    showError(null);
    try {
      const cannedId = kind === "note" ? null : cannedIdFor(text); // counted for its stats
      if (kind === "ticket") {
        const body = { client_msg_id, text };
        if (cannedId !== null) body.canned_reply_id = cannedId;
        await api(`/agent/conversations/${id}/ticket-reply`, { method: "POST", body: JSON.stringify(body) });
      } else {
        const frame = { type: kind, conversation_id: id, client_msg_id, text };
        if (cannedId !== null) frame.canned_reply_id = cannedId;
        await socket.request(frame);
      }
      lastTry = null;
      forgetCanned();
      $("text").value = "";
    } catch (err) { showError(err); }
  }

  function onKeydown(e) {
    const menu = $("canned-menu");
    if (!menu.hidden && canned.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        cannedIndex = (cannedIndex + (e.key === "ArrowDown" ? 1 : -1) + canned.length) % canned.length;
        [...menu.children].forEach((li, i) => li.classList.toggle("active", i === cannedIndex));
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); insertCanned(canned[cannedIndex]); return; }
      if (e.key === "Escape") { menu.hidden = true; return; }
    }
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  }

  $("note-mode").onchange = syncNoteMode;
  $("composer").onsubmit = submit;
  $("text").addEventListener("input", () => { sendTyping(); updateCannedMenu().catch(showError); });
  $("text").addEventListener("keydown", onKeydown);
  $("text").addEventListener("blur", () => { $("canned-menu").hidden = true; });
}
