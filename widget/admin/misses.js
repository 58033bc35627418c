// The "Missed questions" section of /admin (issue 15): what the bot did not answer (or answered
// unhelpfully), grouped by meaning, biggest group first, with the nearest entries and what agents
// replied. One click per group, on the ticked questions: add them as variants of an entry, make a
// new entry of them (an agent's reply as the answer), mark them out of scope, or dismiss them.
// Every action goes live at once (the server rebuilds the bot) and can be undone from the toast.
import { el } from "../console/dom.js";

const REASONS = {
  low_confidence: "not sure",
  repeated_misses: "missed twice",
  none_of_these: "none of these",
  language: "language",
  unhelpful: "not helpful",
  asked_for_human: "asked for a person",
};

const score = (s) => Math.round(s * 100) + " %";

/** A URL-safe entry id from a question ("Do you sell gift cards?" -> "do-you-sell-gift-cards"). */
function slug(text) {
  const s = text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return (s || "entry").slice(0, 60);
}

export function createMissesAdmin({ api, root }) {
  const list = el("div", { id: "misses-groups" });
  const count = el("span", { id: "misses-count", className: "muted" });
  const toast = el("div", { id: "misses-toast", className: "misses-toast", role: "status", hidden: true });
  const error = el("p", { className: "error", role: "alert" });
  const recent = el("details", { id: "misses-recent", className: "misses-recent" });
  let entries = [];
  let built = false;

  function fail(e) { error.textContent = e ? (e.message || String(e)) : ""; }

  function say(text, action) {
    toast.replaceChildren(el("span", { textContent: text }));
    if (action) {
      toast.append(" ", el("button", { type: "button", id: "misses-undo", textContent: "Undo",
        onclick: () => undo(action) }));
    }
    toast.hidden = false;
  }

  async function act(path, body, done) {
    fail(null);
    try {
      const action = await api("/admin/misses/" + path, { method: "POST", body: JSON.stringify(body) });
      say(done, action);
      await refresh();
    } catch (e) { fail(e); }
  }

  async function undo(action) {
    fail(null);
    try {
      await api(`/admin/misses/actions/${action.id}/undo`, { method: "POST" });
      say("Undone: the knowledge base and these questions are as they were.", null);
      await refresh();
    } catch (e) { fail(e); }
  }

  function group(g, n) {
    const boxes = g.misses.map((m) => {
      const box = el("input", { type: "checkbox", checked: true, value: String(m.id) });
      box.dataset.missId = String(m.id);
      return el("li", {}, el("label", {}, box, " ", el("span", { className: "miss-text", textContent: m.text }),
        " ", el("span", { className: "miss-reason muted", textContent: REASONS[m.reason] || m.reason })));
    });
    const chosen = () => [...node.querySelectorAll("input[type=checkbox]:checked")].map((b) => Number(b.value));
    const firstChosen = () => {
      const ids = new Set(chosen());
      return g.misses.find((m) => ids.has(m.id));
    };
    const need = (then) => () => (chosen().length ? then() : fail(new Error("Tick at least one question.")));

    // Add as variants: the nearest entry suggested first, any other entry in the list too.
    const near = new Set(g.nearest.map((x) => x.entry_id));
    const target = el("select", { className: "miss-target", ariaLabel: "Entry to add the questions to" },
      ...g.nearest.map((x) => el("option", { value: x.entry_id,
        textContent: `${x.question} (${x.entry_id}, ${score(x.score)})` })),
      ...entries.filter((e) => !near.has(e.id)).map((e) => el("option", { value: e.id,
        textContent: `${e.question} (${e.id})` })));
    const addBtn = el("button", { type: "button", className: "miss-add", textContent: "Add as variants",
      onclick: need(() => act("variants", { miss_ids: chosen(), entry_id: target.value },
        `Added to ${target.value}: the bot answers these now.`)) });

    // A new entry: the most central ticked question, an agent's reply as the answer (editable).
    const form = el("form", { className: "miss-new", hidden: true });
    const idIn = el("input", { name: "id", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}",
      ariaLabel: "New entry id" });
    const qIn = el("input", { name: "question", required: true, ariaLabel: "New entry question" });
    const aIn = el("textarea", { name: "answer", required: true, rows: 3, ariaLabel: "New entry answer" });
    form.append(el("label", {}, "Id ", idIn), el("label", {}, "Question ", qIn), el("label", {}, "Answer ", aIn),
      el("button", { type: "submit", className: "miss-create", textContent: "Create entry" }));
    form.onsubmit = (ev) => {
      ev.preventDefault();
      act("entries", { miss_ids: chosen(), entry_id: idIn.value.trim(), question: qIn.value.trim(),
        answer: aIn.value.trim() }, `Entry ${idIn.value.trim()} created: the bot answers these now.`);
    };
    const newBtn = el("button", { type: "button", className: "miss-new-open", textContent: "New entry…",
      onclick: need(() => {
        const first = firstChosen();
        qIn.value = first.text;
        idIn.value = slug(first.text);
        if (!aIn.value && g.replies.length) aIn.value = g.replies[0].text;
        form.hidden = false;
        aIn.focus();
      }) });

    const oos = el("button", { type: "button", className: "miss-oos", textContent: "Out of scope",
      onclick: need(() => act("out-of-scope", { miss_ids: chosen() },
        "Marked out of scope: the bot learns not to answer questions like these.")) });
    const dismiss = el("button", { type: "button", className: "miss-dismiss", textContent: "Dismiss",
      onclick: need(() => act("dismiss", { miss_ids: chosen() }, "Dismissed.")) });

    const replies = g.replies.map((r) => el("li", {},
      el("span", { className: "miss-reply", textContent: r.text }),
      el("span", { className: "muted", textContent: ` — ${r.agent || "agent"}` }), " ",
      el("button", { type: "button", className: "miss-use", textContent: "Use as answer", onclick: () => {
        aIn.value = r.text;
        newBtn.click();
      } })));

    const node = el("article", { className: "miss-group" },
      el("h2", { textContent: `${g.count} question${g.count === 1 ? "" : "s"}` }),
      el("ul", { className: "miss-list" }, ...boxes),
      g.nearest.length
        ? el("p", { className: "muted", textContent: "Nearest entries: " +
            g.nearest.map((x) => `${x.entry_id} ${score(x.score)}`).join(", ") })
        : "",
      replies.length ? el("div", {}, el("h3", { textContent: "What agents replied" }),
        el("ul", { className: "miss-replies" }, ...replies)) : "",
      el("div", { className: "miss-actions" }, target, addBtn, newBtn, oos, dismiss),
      form);
    node.dataset.group = String(n);
    return node;
  }

  const DONE = { variant: "added as variants of", created: "made into entry", out_of_scope: "marked out of scope",
    dismissed: "dismissed" };

  /** The latest actions, each with its Undo: after a reload the toast is gone, these stay. */
  function showRecent(actions) {
    recent.replaceChildren(el("summary", { textContent: `Recent actions (${actions.length})` }),
      el("ul", {}, ...actions.map((a) => el("li", {},
        el("span", { textContent: `${a.questions} question${a.questions === 1 ? "" : "s"} ${DONE[a.kind] || a.kind}` +
          (a.entry_id && (a.kind === "variant" || a.kind === "created") ? ` ${a.entry_id}` : "") }), " ",
        el("button", { type: "button", className: "miss-undo", textContent: "Undo", onclick: () => undo(a) })))));
    recent.hidden = !actions.length;
  }

  async function refresh() {
    const [groups, rows, actions] = await Promise.all([
      api("/admin/misses"), api("/admin/kb"), api("/admin/misses/actions")]);
    entries = rows;
    showRecent(actions);
    list.replaceChildren(...groups.map(group));
    const total = groups.reduce((sum, g) => sum + g.count, 0);
    count.textContent = `${total} open in ${groups.length} group${groups.length === 1 ? "" : "s"}`;
    if (!groups.length) {
      list.append(el("p", { className: "muted", textContent: "No missed questions: nothing waits here." }));
    }
  }

  async function load() {
    if (!built) {
      root.replaceChildren(
        el("div", { className: "kb-head" }, el("h1", { textContent: "Missed questions" }), count),
        el("p", { className: "muted", textContent: "Questions the bot did not answer, or answered unhelpfully, " +
          "grouped by meaning. Untick the ones that do not belong before you act." }),
        toast, error, list, recent);
      built = true;
    }
    await refresh();
  }
  return { load };
}
