// The canned replies section of /admin (issue 15): each reply's uses and how often the chat
// then ended well (closed, the visitor did not ask again, rated 4-5 or not rated); a reply past
// the threshold gets "Make it an FAQ entry": the bot answers what it answered from then on.
// Uses /api/admin/canned (and /api/agent/canned to add one). Values are shown as text only.
import { el } from "../console/dom.js";

const pct = (rate) => (rate == null ? "–" : Math.round(rate * 100) + " %");

export function createCannedAdmin({ api, root }) {
  const status = el("p", { className: "muted", role: "status", id: "canned-status" });
  const error = el("p", { className: "error", role: "alert" });
  const rule = el("p", { className: "muted", id: "canned-rule" });
  const tbody = el("tbody", { id: "canned-rows" });
  let built = false;

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { error.textContent = e.message || String(e); }

  async function automate(r) {
    try {
      const out = await api(`/admin/canned/${r.id}/automate`, { method: "POST" });
      say(`/${r.shortcut} is now the FAQ entry ${out.entry_id} with ${out.variants.length} ` +
        `visitor question${out.variants.length === 1 ? "" : "s"} as variants: the bot answers them.`);
      await refresh();
    } catch (e) { fail(e); }
  }

  function action(r, threshold) {
    if (r.entry_id) return el("span", { className: "canned-automated" }, "FAQ entry ", el("code", {}, r.entry_id));
    if (r.offered) {
      return el("button", { type: "button", className: "canned-automate", onclick: () => automate(r) },
        "Make it an FAQ entry");
    }
    const short = r.uses < threshold.min_uses ? `${threshold.min_uses - r.uses} more uses needed`
      : `below ${threshold.success_percent} %`;
    return el("span", { className: "muted" }, short);
  }

  function row(r, threshold) {
    const tr = el("tr", {},
      el("td", {}, el("code", {}, "/" + r.shortcut), el("div", {}, r.title)),
      el("td", { className: "canned-text" }, r.text),
      el("td", { className: "num" }, String(r.uses)),
      el("td", { className: "num" }, String(r.ended_well)),
      el("td", { className: "num" }, pct(r.success_rate)),
      el("td", { className: "row-actions" }, action(r, threshold)));
    tr.dataset.id = String(r.id);
    return tr;
  }

  async function refresh() {
    const out = await api("/admin/canned");
    rule.textContent = `A reply whose chats ended well at least ${out.success_percent} % of the time ` +
      `over at least ${out.min_uses} uses can become an FAQ entry: its text the answer, the visitors' ` +
      "questions it answered the variants.";
    tbody.replaceChildren(...out.replies.map((r) => row(r, out)));
    if (!out.replies.length) {
      tbody.append(el("tr", {}, el("td", { colSpan: 6, className: "muted" }, "No canned replies yet: add one below.")));
    }
  }

  function addForm() {
    const shortcut = el("input", { required: true, maxLength: 41, placeholder: "shortcut", ariaLabel: "Shortcut" });
    const title = el("input", { required: true, maxLength: 200, placeholder: "title", ariaLabel: "Title" });
    const text = el("textarea", { required: true, rows: 2, placeholder: "text", ariaLabel: "Text" });
    const form = el("form", { className: "canned-add" }, shortcut, title, text,
      el("button", { type: "submit" }, "Add canned reply"));
    form.onsubmit = async (e) => {
      e.preventDefault();
      try {
        await api("/agent/canned", { method: "POST",
          body: JSON.stringify({ shortcut: shortcut.value, title: title.value, text: text.value }) });
        form.reset();
        say("Added: agents insert it with /" + shortcut.value.replace(/^\//, "") + ".");
        await refresh();
      } catch (err) { fail(err); }
    };
    return form;
  }

  function build() {
    const head = el("tr", {}, ...["Reply", "Text", "Uses", "Ended well", "Rate", ""]
      .map((t) => el("th", { scope: "col" }, t)));
    root.replaceChildren(el("h1", {}, "Canned replies"), rule, status, error,
      el("table", { className: "canned-table" }, el("thead", {}, head), tbody), addForm());
  }

  async function load() {
    if (!built) { build(); built = true; }
    await refresh();
  }
  return { load };
}
