// The API keys part of /admin → Integrations (issue 18): named keys with scopes, shown once at
// creation, revoked at once. Uses only /api/admin/api-keys. Every value is set as text (el()
// sets textContent), never as HTML.
import { el, fmtDate } from "../console/dom.js";

export const SCOPES = [
  ["conversations:read", "Read conversations, transcripts and tickets"],
  ["messages:write", "Post messages (as the bot, or a reply on a ticket)"],
  ["kb:manage", "Manage the knowledge base"],
];

/** "active", "revoked" or "expired", as the server will judge the key now. */
export function keyState(k, now = Date.now()) {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && Date.parse(k.expires_at) <= now) return "expired";
  return "active";
}

/** The end of a picked day (YYYY-MM-DD) in the admin's time zone, as an ISO instant. */
export function endOfDay(day) {
  return day ? new Date(`${day}T23:59:59`).toISOString() : null;
}

export function createApiKeysAdmin({ api, root }) {
  const status = el("p", { className: "muted", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const tbody = el("tbody");
  const shown = el("div", { className: "promise new-key", hidden: true });

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { error.textContent = e.message || String(e); }

  const post = (path, body) => api(path, { method: "POST", body: body && JSON.stringify(body) });

  function row(k) {
    const state = keyState(k);
    const revoke = el("button", { type: "button", className: "revoke danger", hidden: state === "revoked",
      onclick: () => revokeKey(k) }, "Revoke");
    const tr = el("tr", { className: state },
      el("td", {}, k.name),
      el("td", {}, el("code", {}, `${k.prefix}…`)),
      el("td", {}, k.scopes.join(", ")),
      el("td", { className: "muted" }, fmtDate(k.created_at)),
      el("td", { className: "muted" }, k.expires_at ? fmtDate(k.expires_at) : "never"),
      el("td", { className: "muted" }, fmtDate(k.last_used_at) || "never"),
      el("td", {}, el("span", { className: `state ${state}` },
        state === "revoked" ? `Revoked ${fmtDate(k.revoked_at)}` : state === "expired" ? "Expired" : "Active")),
      el("td", { className: "row-actions" }, revoke));
    tr.dataset.keyId = String(k.id);
    return tr;
  }

  async function refresh() {
    const keys = await api("/admin/api-keys");
    tbody.replaceChildren(...(keys.length ? keys.map(row)
      : [el("tr", {}, el("td", { colSpan: 8, className: "muted" }, "No API keys yet."))]));
  }

  async function revokeKey(k) {
    if (!window.confirm(`Revoke the key "${k.name}" (${k.prefix}…)? Integrations using it are refused from their next request.`)) return;
    try {
      await post(`/admin/api-keys/${k.id}/revoke`);
      say(`The key "${k.name}" is revoked.`);
      await refresh();
    } catch (e) { fail(e); }
  }

  /** The new key, in full, this once: only its hash is kept. */
  function showOnce(made) {
    const code = el("code", { className: "secret" }, made.key);
    const copy = el("button", { type: "button", onclick: () =>
      navigator.clipboard.writeText(made.key).then(() => { copy.textContent = "Copied"; }, fail) }, "Copy");
    const done = el("button", { type: "button", onclick: () => { shown.hidden = true; shown.replaceChildren(); } },
      "I have stored it");
    shown.replaceChildren(
      el("strong", {}, `The key "${made.name}". Copy it now: it is shown only this once.`),
      el("div", {}, code),
      el("div", { className: "kb-row" }, copy, done));
    shown.hidden = false;
  }

  function createForm() {
    const scopes = SCOPES.map(([value, label]) => el("div", {},
      el("label", {}, el("input", { type: "checkbox", name: "scope", value }), ` ${value} `,
        el("span", { className: "muted" }, `— ${label}`))));
    const line = (...children) => el("p", {}, ...children);
    const form = el("form", { className: "create-key", ariaLabel: "New API key", style: "max-width: 640px" },
      line(el("label", {}, "Name ", el("input", { name: "name", required: true, maxLength: 100, placeholder: "e.g. Shop backend" }))),
      el("fieldset", { className: "scopes" }, el("legend", {}, "Scopes"), ...scopes),
      line(el("label", {}, "Expires ", el("input", { type: "date", name: "expires" })),
        el("span", { className: "muted" }, " (optional; without a date the key lasts until revoked)")),
      line(el("button", { type: "submit" }, "Create key")));
    form.onsubmit = async (e) => {
      e.preventDefault();
      const v = form.elements;
      const chosen = [...form.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
      if (!chosen.length) return fail(new Error("Pick at least one scope."));
      try {
        const made = await post("/admin/api-keys", { name: v.name.value, scopes: chosen, expires_at: endOfDay(v.expires.value) });
        form.reset();
        showOnce(made);
        say(`The key "${made.name}" was created.`);
        await refresh();
      } catch (err) { fail(err); }
    };
    return form;
  }

  async function load() {
    root.replaceChildren(
      el("h2", {}, "API keys"),
      el("p", { className: "muted" },
        "For your other servers: send a key as “Authorization: Bearer ck_…”. Each key may do only what its scopes allow; every call made with it is in the audit log. A revoked key is refused at once."),
      el("table", { className: "api-keys" },
        el("thead", {}, el("tr", {}, ...["Name", "Key", "Scopes", "Created", "Expires", "Last used", "Status", ""].map((h) => el("th", {}, h)))),
        tbody),
      status, error, shown,
      el("h3", {}, "Create a key"),
      createForm());
    await refresh();
  }
  return { load };
}
