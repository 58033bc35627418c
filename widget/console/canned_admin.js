// The canned replies panel: search them, click one into the composer, and (admins) add or
// delete them.
import { $, el, showError } from "./dom.js";
import { noteCanned } from "./canned_use.js";

export function createCannedAdmin({ api, auth }) {
  async function load() {
    const rows = await api("/agent/canned?q=" + encodeURIComponent($("canned-search").value));
    const ul = $("canned-list"); ul.textContent = "";
    for (const r of rows) {
      const li = el("li", {}, el("code", { textContent: "/" + r.shortcut }), " " + r.title,
        el("span", { className: "sub", textContent: r.text }));
      li.onclick = () => { if (!$("composer").hidden) { $("text").value += r.text; noteCanned(r); $("text").focus(); } };
      if (auth.me.is_admin) {
        const del = el("button", { type: "button", textContent: "Delete", title: "Delete /" + r.shortcut });
        del.onclick = async (e) => { e.stopPropagation(); await api(`/agent/canned/${r.id}`, { method: "DELETE" }); load(); };
        li.append(" ", del);
      }
      ul.append(li);
    }
    if (!rows.length) ul.append(el("li", { className: "muted", textContent: "No canned replies." }));
  }

  $("canned-search").addEventListener("input", () => load().catch(showError));
  $("canned-form").onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api("/agent/canned", { method: "POST", body: JSON.stringify({
        shortcut: $("canned-shortcut").value, title: $("canned-title").value, text: $("canned-text").value }) });
      $("canned-form").reset();
      load();
    } catch (err) { showError(err); }
  };

  return { load };
}
