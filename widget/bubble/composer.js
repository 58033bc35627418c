// Writing: the text box (grows with its text, keeps a half-typed draft across pages of the
// site), Enter to send, and the "Talk to a person" button.
import { btn, h } from "./dom.js";
import { MAX_TEXT_BYTES } from "./session.js";

const INPUT_MAX_PX = 120; // the text box grows up to about five lines, then scrolls

export function createComposer({ ui, T, session, tabStore, messages, typing }) {
  const { form, input, err, human } = ui;

  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, INPUT_MAX_PX) + "px"; // + the borders
    tabStore.set("draft", input.value);
    typing.draftChanged();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) { err.textContent = T.tooLong; return; }
    err.textContent = "";
    input.value = ""; input.style.height = ""; tabStore.set("draft", "");
    messages.showOwn(session.message(text));
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  // With the topic choice on (the welcome's `topics`), a person for which topic first: the chat
  // goes to that team's queue; "Something else" to everyone.
  human.addEventListener("click", () => {
    const topics = session.topics || [];
    if (!topics.length) { messages.showOwn(session.handoff(T.human)); return; }
    const acts = human.parentNode;
    const old = acts.querySelector(".topics");
    if (old) { old.remove(); return; }
    const box = h("div", "opts topics", null, { role: "group", "aria-label": T.topicAsk });
    const pick = (teamId) => { box.remove(); messages.showOwn(session.handoff(T.human, teamId)); };
    box.append(h("span", "", T.topicAsk));
    for (const t of topics) box.append(btn(t.name, "", () => pick(t.id), { dir: "auto" }));
    box.append(btn(T.topicAny, "", () => pick(null)));
    acts.append(box);
    box.querySelector("button").focus();
  });

  /** The draft this tab had before the page changed. */
  function restoreDraft() { input.value = tabStore.get("draft", ""); }

  return { restoreDraft };
}
