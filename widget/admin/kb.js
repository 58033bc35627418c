// The knowledge base section of /admin (issue 14): entries with how they did, search, create,
// edit and delete; the bot's rebuild and calibration; import/export and "try a question"
// (./kb_tools.js). Every change goes live on its own: the server rebuilds the bot's index.
import { el } from "../console/dom.js";
import { renderAnswer } from "../bubble/format.js";
import { createImporter, createStatus, createTryBox, exportButtons } from "./kb_tools.js";

const SEARCH_DELAY_MS = 250; // search as the admin types, not on every key
const FORMAT_HINT = "Shown formatted in the chat: [text](https://…) and bare https:// links, "
  + "mailto: links, a line per line, and lines starting with \"- \" as a list. Anything else is text.";

const pct = (rate) => (rate == null ? "–" : Math.round(rate * 100) + " %");

export function createKbAdmin({ api, root }) {
  const status = createStatus({ api });
  const tryBox = createTryBox({ api });
  const importer = createImporter({ api, onImported: () => { status.watch(true); refresh(); } });
  const search = el("input", { type: "search", id: "kb-search", placeholder: "Search questions, variants, answers",
    ariaLabel: "Search the knowledge base" });
  const count = el("span", { id: "kb-count", className: "muted" });
  const table = el("tbody", { id: "kb-rows" });
  const editor = createEditor({ api, onSaved: () => { status.watch(true); refresh(); } });
  let timer = null;
  let built = false;

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(editor.fail), SEARCH_DELAY_MS);
  });

  function row(e) {
    const entry = el("td", {},
      el("code", { className: "kb-id", textContent: e.id }),
      el("div", { className: "kb-q", textContent: e.question }));
    if (e.variants.length) {
      entry.append(el("div", { className: "kb-variants muted",
        textContent: "Also: " + e.variants.map((v) => v.text).join(" · ") }));
    }
    const answer = el("td", { className: "kb-answer" });
    renderAnswer(answer, e.answer, document);
    const votes = e.helpful + e.unhelpful;
    const helpful = el("td", { className: "num", textContent: pct(e.helpful_rate),
      title: `${e.helpful} yes, ${e.unhelpful} no in the last 30 days` });
    if (votes) helpful.append(el("span", { className: "muted", textContent: ` (${votes})` }));
    const edit = el("button", { type: "button", textContent: "Edit", onclick: () => editor.open(e) });
    const del = el("button", { type: "button", className: "danger", textContent: "Delete", onclick: () => remove(e) });
    const tr = el("tr", {}, entry, answer,
      el("td", { className: "num", textContent: String(e.answered_7d) }),
      el("td", { className: "num", textContent: String(e.answered_30d) }),
      helpful, el("td", { className: "row-actions" }, edit, " ", del));
    tr.dataset.id = e.id;
    return tr;
  }

  async function remove(e) {
    if (!confirm(`Delete "${e.question}" (${e.id})? The bot stops answering with it.`)) return;
    try {
      await api(`/admin/kb/${encodeURIComponent(e.id)}`, { method: "DELETE" });
      status.watch(true);
      await refresh();
    } catch (err) { editor.fail(err); }
  }

  async function refresh() {
    const q = search.value.trim();
    const rows = await api("/admin/kb" + (q ? "?q=" + encodeURIComponent(q) : ""));
    table.replaceChildren(...rows.map(row));
    if (!rows.length) {
      table.append(el("tr", {}, el("td", { colSpan: 6, className: "muted",
        textContent: q ? "No entry matches." : "The knowledge base is empty: add an entry or import a file." })));
    }
    count.textContent = q ? `${rows.length} matching` : `${rows.length} entries`;
  }

  function build() {
    const head = el("tr", {}, ...["Entry", "Answer", "Answered 7 d", "30 d", "Helpful", ""]
      .map((t) => el("th", { textContent: t, scope: "col" })));
    const newBtn = el("button", { type: "button", id: "kb-new", textContent: "New entry", onclick: () => editor.open(null) });
    root.replaceChildren(
      el("div", { className: "kb-head" }, el("h1", { textContent: "Knowledge base" }), status.node),
      el("div", { className: "kb-tools" }, tryBox.node, importer.node),
      el("div", { className: "kb-bar" }, search, newBtn, count, el("span", { className: "spacer" }),
        ...exportButtons({ onError: editor.fail })),
      editor.node,
      el("table", { className: "kb-table" }, el("thead", {}, head), table));
  }

  async function load() {
    if (!built) { build(); built = true; }
    await Promise.all([refresh(), status.watch(false)]);
  }
  return { load };
}

/** The create/edit form: id (new entries only), question, answer, variants one per line. */
function createEditor({ api, onSaved }) {
  const id = el("input", { id: "kb-f-id", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}",
    title: "letters, digits, '.', '_' or '-'" });
  const question = el("input", { id: "kb-f-question", required: true, maxLength: 8192 });
  const answer = el("textarea", { id: "kb-f-answer", required: true, rows: 5, maxLength: 8192 });
  const variants = el("textarea", { id: "kb-f-variants", rows: 4,
    placeholder: "Other ways visitors ask it, one per line" });
  const title = el("h2", {});
  const error = el("p", { className: "error", role: "alert" });
  const label = (text, input, hint) => el("label", {}, text, input, hint ? el("small", { className: "muted", textContent: hint }) : "");
  const save = el("button", { type: "submit", id: "kb-save", textContent: "Save" });
  const cancel = el("button", { type: "button", textContent: "Cancel", onclick: () => close() });
  const form = el("form", { id: "kb-editor", className: "kb-editor card", hidden: true },
    title, label("Id", id), label("Question", question), label("Answer", answer, FORMAT_HINT),
    label("Variants", variants), error, el("div", { className: "actions" }, save, cancel));
  let editing = null; // the entry being edited, null for a new one

  function open(entry) {
    editing = entry;
    title.textContent = entry ? `Edit ${entry.id}` : "New entry";
    id.value = entry ? entry.id : "";
    id.disabled = Boolean(entry);
    question.value = entry ? entry.question : "";
    answer.value = entry ? entry.answer : "";
    variants.value = entry ? entry.variants.map((v) => v.text).join("\n") : "";
    error.textContent = "";
    form.hidden = false;
    (entry ? question : id).focus();
    form.scrollIntoView({ block: "nearest" });
  }

  function close() { form.hidden = true; editing = null; }

  function fail(err) {
    error.textContent = err.message || String(err);
    if (form.hidden) document.getElementById("error").textContent = error.textContent;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {
      question: question.value,
      answer: answer.value,
      variants: variants.value.split("\n").map((v) => v.trim()).filter(Boolean),
    };
    save.disabled = true;
    try {
      if (editing) await api(`/admin/kb/${encodeURIComponent(editing.id)}`, { method: "PUT", body: JSON.stringify(body) });
      else await api("/admin/kb", { method: "POST", body: JSON.stringify({ id: id.value.trim(), ...body }) });
      close();
      onSaved();
    } catch (err) { fail(err); } finally { save.disabled = false; }
  });

  return { node: form, open, fail };
}
