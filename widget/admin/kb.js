// The knowledge base section of /admin (issue 14): entries with how they did, search, create,
// edit and delete; the bot's rebuild and calibration; import/export and "try a question"
// (./kb_tools.js). Every change goes live on its own: the server rebuilds the bot's index.
import { el } from "../console/dom.js";
import { renderAnswer } from "../bubble/format.js";
import { createImporter, createStatus, createTryBox, exportButtons } from "./kb_tools.js";
import { createEditor } from "./kb_editor.js";

const SEARCH_DELAY_MS = 250; // search as the admin types, not on every key

const pct = (rate) => (rate == null ? "–" : Math.round(rate * 100) + " %");

export function createKbAdmin({ api, root }) {
  const status = createStatus({ api, onStatus: (s) => editor.setKbLanguage(s.language) });
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
    if (e.translations.length) { // issue 17: the languages it has besides the KB's own
      entry.append(el("div", { className: "kb-langs" }, ...e.translations.map((t) =>
        el("span", { className: "kb-lang", textContent: t.lang, title: t.question, lang: t.lang }))));
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
