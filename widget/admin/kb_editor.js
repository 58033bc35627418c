// The knowledge base entry form of /admin: id (new entries only), question, answer, variants one
// per line; and, per entry, the same in another language (issue 17): the language picker loads
// the entry's own text (the KB's language) or one translation, and Save saves what it shows.
import { el } from "../console/dom.js";

const FORMAT_HINT = "Shown formatted in the chat: [text](https://…) and bare https:// links, "
  + "mailto: links, a line per line, and lines starting with \"- \" as a list. Anything else is text.";
// Offered in the picker before any translation exists: the widget's languages (bot/language.py).
const COMMON_LANGUAGES = ["cs", "de", "es", "fa", "fr", "pt", "zh-Hans", "zh-Hant"];
const OWN = ""; // the picker's value for the entry's own language
const OTHER = "*"; // the picker's value that asks for any other tag
const TAG_PATTERN = "[a-z]{2,3}(-[A-Za-z0-9]{2,4}){0,2}";

const languageName = (tag) => {
  try { return new Intl.DisplayNames(["en"], { type: "language" }).of(tag) || tag; } catch { return tag; }
};

export function createEditor({ api, onSaved }) {
  const id = el("input", { id: "kb-f-id", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}",
    title: "letters, digits, '.', '_' or '-'" });
  const picker = el("select", { id: "kb-f-lang", ariaLabel: "Language of the text below" });
  const otherTag = el("input", { id: "kb-f-lang-other", hidden: true, placeholder: "tag, e.g. pt-BR",
    pattern: TAG_PATTERN, size: 10, ariaLabel: "Language tag" });
  const langHint = el("small", { id: "kb-f-lang-hint", className: "muted" });
  // dir="auto": a Persian translation reads right to left while it is edited.
  const question = el("input", { id: "kb-f-question", required: true, maxLength: 8192, dir: "auto" });
  const answer = el("textarea", { id: "kb-f-answer", required: true, rows: 5, maxLength: 8192, dir: "auto" });
  const variants = el("textarea", { id: "kb-f-variants", rows: 4, dir: "auto",
    placeholder: "Other ways visitors ask it, one per line" });
  // Issue 16: the team the entry's topic goes to when the bot hands it to a person.
  const teamNames = el("datalist", { id: "kb-teams-list" });
  const team = el("input", { id: "kb-f-team", maxLength: 100, placeholder: "everyone", autocomplete: "off" });
  team.setAttribute("list", "kb-teams-list");
  let savedTeam = "";
  const title = el("h2", {});
  const error = el("p", { className: "error", role: "alert" });
  const label = (text, input, hint) => el("label", {}, text, input, hint ? el("small", { className: "muted", textContent: hint }) : "");
  const save = el("button", { type: "submit", id: "kb-save", textContent: "Save" });
  const removeLang = el("button", { type: "button", id: "kb-f-lang-delete", className: "danger", hidden: true,
    textContent: "Delete this translation", onclick: () => dropTranslation() });
  const cancel = el("button", { type: "button", textContent: "Cancel", onclick: () => close() });
  const languageRow = el("div", { className: "kb-lang-row" },
    el("label", {}, "Language", picker), otherTag, langHint);
  const form = el("form", { id: "kb-editor", className: "kb-editor card", hidden: true },
    title, label("Id", id), languageRow, label("Question", question), label("Answer", answer, FORMAT_HINT),
    label("Variants", variants),
    label("Team", team, "The team that gets this topic first when the bot hands it to a person; empty: everyone."),
    teamNames, error, el("div", { className: "actions" }, save, cancel, removeLang));
  let editing = null; // the entry being edited, null for a new one
  let kbLanguage = "en"; // the entries' own language (the status says)

  const current = () => (picker.value === OTHER ? otherTag.value.trim() : picker.value);
  const translationOf = (tag) => (editing?.translations || []).find((t) => t.lang === tag) || null;

  function fill(text) {
    question.value = text ? text.question : "";
    answer.value = text ? text.answer : "";
    variants.value = text ? text.variants.map((v) => v.text).join("\n") : "";
    for (const input of [question, answer, variants]) input.lang = current() || kbLanguage;
  }

  function fillPicker() {
    const have = (editing?.translations || []).map((t) => t.lang);
    const tags = [...new Set([...have, ...COMMON_LANGUAGES])].filter((t) => t !== kbLanguage);
    picker.replaceChildren(
      el("option", { value: OWN, textContent: `${languageName(kbLanguage)} (${kbLanguage}, the knowledge base's)` }),
      ...tags.map((t) => el("option", { value: t,
        textContent: `${languageName(t)} (${t})` + (have.includes(t) ? " ✓" : ", not translated yet") })),
      el("option", { value: OTHER, textContent: "Another language…" }));
    picker.value = OWN;
  }

  function showLanguage() {
    const tag = current();
    otherTag.hidden = picker.value !== OTHER;
    otherTag.required = picker.value === OTHER;
    const existing = tag ? translationOf(tag) : null;
    removeLang.hidden = !existing;
    langHint.textContent = !tag ? "Visitors in languages without a translation get this text, with a note."
      : existing ? "Visitors writing in this language get this translation."
      : "Not translated yet: fill in the question, answer and variants in this language.";
    fill(tag ? existing : editing);
  }

  picker.addEventListener("change", showLanguage);
  otherTag.addEventListener("change", showLanguage);

  async function loadTeam(entry) {
    const [teams, named] = await Promise.all([api("/admin/teams").catch(() => []), api("/admin/kb-teams")]);
    teamNames.replaceChildren(...teams.map((t) => el("option", { value: t.name })));
    savedTeam = (entry && named[entry.id]) || "";
    team.value = savedTeam;
  }

  function open(entry) {
    editing = entry;
    team.value = savedTeam = "";
    loadTeam(entry).catch(fail);
    title.textContent = entry ? `Edit ${entry.id}` : "New entry";
    id.value = entry ? entry.id : "";
    id.disabled = Boolean(entry);
    fillPicker();
    picker.disabled = !entry; // a translation belongs to a saved entry
    showLanguage();
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

  const entryPath = () => `/admin/kb/${encodeURIComponent(editing.id)}`;

  async function dropTranslation() {
    const tag = current();
    if (!confirm(`Delete the ${languageName(tag)} translation of ${editing.id}?`)) return;
    try {
      await api(`${entryPath()}/translations/${encodeURIComponent(tag)}`, { method: "DELETE" });
      close();
      onSaved();
    } catch (err) { fail(err); }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {
      question: question.value,
      answer: answer.value,
      variants: variants.value.split("\n").map((v) => v.trim()).filter(Boolean),
    };
    const tag = current();
    save.disabled = true;
    try {
      if (editing && tag) await api(`${entryPath()}/translations/${encodeURIComponent(tag)}`, { method: "PUT", body: JSON.stringify(body) });
      else if (editing) await api(entryPath(), { method: "PUT", body: JSON.stringify(body) });
      else await api("/admin/kb", { method: "POST", body: JSON.stringify({ id: id.value.trim(), ...body }) });
      const entryId = editing ? editing.id : id.value.trim();
      if (team.value.trim() !== savedTeam) {
        await api(`/admin/kb/${encodeURIComponent(entryId)}/team`, { method: "PUT", body: JSON.stringify({ team: team.value.trim() || null }) });
      }
      close();
      onSaved();
    } catch (err) { fail(err); } finally { save.disabled = false; }
  });

  function setKbLanguage(tag) {
    if (!tag || tag === kbLanguage) return;
    kbLanguage = tag;
    if (!form.hidden) { fillPicker(); showLanguage(); }
  }

  return { node: form, open, fail, setKbLanguage };
}
