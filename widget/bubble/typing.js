// "Is typing", both ways: the agent's shows under the log; the visitor's draft reaches the
// agent as a live preview, only while a person holds the chat.
import { format } from "./texts.js";

const TYPING_SHOW_MS = 5000; // an agent's "typing" fades unless repeated
const TYPING_SEND_MS = 1200; // at most this often we send the visitor's draft

export function createTyping({ ui, T, session }) {
  let shownTimer = 0, draftAt = 0, draftTimer = 0;

  /** The agent's typing frame, or null to clear the line (their message arrived). */
  function showAgent(f) {
    clearTimeout(shownTimer);
    ui.typing.textContent = f ? format(T.typing, { name: f.name || T.title }) : "";
    if (f) shownTimer = setTimeout(() => showAgent(null), TYPING_SHOW_MS);
  }

  // At most every TYPING_SEND_MS, and always once more after the last keystroke so the agent
  // sees the whole draft.
  function draftChanged() {
    if (session.state.state !== "assigned" || draftTimer) return;
    const wait = Math.max(0, draftAt + TYPING_SEND_MS - Date.now());
    draftTimer = setTimeout(() => {
      draftTimer = 0; draftAt = Date.now();
      session.sendDraft(ui.input.value);
    }, wait);
  }

  return { showAgent, draftChanged };
}
