// "Your visitor is waiting" (the agent socket's `agent_silent` frame, docs/protocol.md): one
// line per chat of mine the server warned about, with when it goes to a colleague; gone once
// I answer, or the chat is no longer mine (re-routed, transferred, closed).
import { $, el, fmtTime } from "./dom.js";

export function createSilentWarnings({ auth, onOpen }) {
  const warned = new Map(); // conversation id -> the agent_silent frame

  function render() {
    const ul = $("silent-warnings");
    ul.replaceChildren();
    ul.hidden = warned.size === 0;
    for (const [id, f] of warned) {
      const after = f.reroute_at ? ` — it goes to a colleague at ${fmtTime(f.reroute_at)}` : "";
      const open = el("button", { type: "button", textContent: "Answer" });
      open.onclick = () => onOpen(id);
      ul.append(el("li", {}, `Conversation #${id}: the visitor has waited since ${fmtTime(f.waiting_since)}${after}. `, open));
    }
  }

  return {
    /** An `agent_silent` frame: shown only to the agent the chat is assigned to. */
    warn(f) {
      if (!auth.me || f.agent_id !== auth.me.id) return;
      warned.set(f.conversation_id, f);
      render();
    },
    /** A `conversation` or `message` frame: the warning ends when I answer or lose the chat. */
    update(f) {
      if (!warned.has(f.conversation_id)) return;
      const answered = f.type === "message" && f.sender === "agent";
      const notMine = f.type === "conversation" && (f.state !== "assigned" || f.assigned_agent_id !== auth.me?.id);
      if (answered || notMine) { warned.delete(f.conversation_id); render(); }
    },
    reset() { warned.clear(); render(); },
  };
}
