// The agents section of /admin (issue 14): the team with status, load and role; create an
// agent, disable / re-enable, reset a password, set capacity and the admin role. Uses only
// /api/admin/agents. Every value is shown as text (el() sets textContent), never as HTML.
import { el, fmtDate } from "../console/dom.js";
import { ownAvatar } from "../console/profile.js";

const STATUS_TEXT = { online: "Online", away: "Away", offline: "Offline" };

/** An agent's picture (served by us) or their initials. */
export function avatarOf(agent) {
  if (ownAvatar(agent.avatar_url)) return el("img", { className: "av", src: agent.avatar_url, alt: "" });
  const initials = agent.name.split(/\s+/).map((p) => p[0] || "").join("").slice(0, 2).toUpperCase();
  return el("span", { className: "av", ariaHidden: "true" }, initials);
}

export function createAgentsAdmin({ api, auth, root }) {
  const status = el("p", { className: "muted", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const tbody = el("tbody");
  const resetDialog = passwordDialog();

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { error.textContent = e.message || String(e); }

  /** Run one admin action, then show its outcome and the fresh team. */
  async function act(promise, done) {
    try {
      await promise;
      say(done);
      await refresh();
    } catch (e) { fail(e); }
  }

  const post = (path, body) => api(path, { method: "POST", body: body && JSON.stringify(body) });
  const patch = (id, body) => api(`/admin/agents/${id}`, { method: "PATCH", body: JSON.stringify(body) });

  function row(a) {
    const me = auth.me && a.id === auth.me.id;
    const capacity = el("input", { type: "number", min: "0", max: "20", value: String(a.capacity),
      className: "capacity", ariaLabel: `Capacity of ${a.name}` });
    const saveCapacity = el("button", { type: "button", className: "set-capacity", onclick: () =>
      act(patch(a.id, { capacity: Number(capacity.value) }), `${a.name} takes up to ${capacity.value} chats at once.`) }, "Set");
    const role = el("button", { type: "button", className: "role", onclick: () =>
      act(patch(a.id, { is_admin: !a.is_admin }), a.is_admin ? `${a.name} is no longer an admin.` : `${a.name} is now an admin.`) },
    a.is_admin ? "Remove admin" : "Make admin");
    const toggle = a.disabled_at
      ? el("button", { type: "button", className: "enable", onclick: () =>
        act(post(`/admin/agents/${a.id}/enable`), `${a.name} can log in again.`) }, "Re-enable")
      : el("button", { type: "button", className: "disable", hidden: me, onclick: () =>
        act(post(`/admin/agents/${a.id}/disable`), `${a.name} is disabled and logged out; their chats went back to the queue.`) }, "Disable");
    const reset = el("button", { type: "button", className: "reset", hidden: me, onclick: () =>
      resetDialog.open(a, (password) => act(post(`/admin/agents/${a.id}/password`, { password }),
        `${a.name} has a new password; their sessions ended.`)) }, "Reset password");
    const state = a.disabled_at ? "disabled" : a.status;
    const tr = el("tr", { className: a.disabled_at ? "disabled" : "" },
      el("td", { className: "who" }, avatarOf(a), el("span", {}, a.name), me ? el("span", { className: "muted" }, " (you)") : ""),
      el("td", {}, a.email),
      el("td", {}, a.is_admin ? "Admin" : "Agent"),
      el("td", {}, el("span", { className: `state ${state}` }, a.disabled_at ? "Disabled" : STATUS_TEXT[a.status] || a.status)),
      el("td", { className: "load" }, `${a.active} / ${a.capacity}`),
      el("td", { className: "muted" }, a.disabled_at ? "since " + fmtDate(a.disabled_at) : fmtDate(a.last_seen_at) || "never"),
      el("td", { className: "row-actions" }, el("div", {}, capacity, saveCapacity, role, toggle, reset)));
    tr.dataset.email = a.email;
    return tr;
  }

  async function refresh() {
    const team = await api("/admin/agents");
    tbody.replaceChildren(...team.map(row));
  }

  function createForm() {
    const field = (label, props) => el("label", {}, label, el("input", props));
    const email = { type: "email", name: "email", required: true, autocomplete: "off" };
    const form = el("form", { className: "inline create-agent", ariaLabel: "New agent" },
      field("E-mail", email),
      field("Name", { name: "name", required: true, maxLength: 200 }),
      field("Initial password", { type: "password", name: "password", required: true, minLength: 8, autocomplete: "new-password" }),
      field("Capacity", { type: "number", name: "capacity", min: "0", max: "20", value: "3", required: true }),
      el("label", { className: "check" }, el("input", { type: "checkbox", name: "is_admin" }), "Admin"),
      el("button", { type: "submit" }, "Add agent"));
    form.onsubmit = (e) => {
      e.preventDefault();
      const v = form.elements;
      const body = { email: v.email.value, name: v.name.value, password: v.password.value,
        capacity: Number(v.capacity.value), is_admin: v.is_admin.checked };
      act(post("/admin/agents", body).then(() => form.reset()), `${body.name} can log in now.`);
    };
    return form;
  }

  async function load() {
    root.replaceChildren(
      el("h1", {}, "Agents"),
      el("p", { className: "muted" }, "Disabling someone logs them out at once and puts their chats back in the queue. There is always at least one admin."),
      el("table", { className: "team" },
        el("thead", {}, el("tr", {}, ...["Agent", "E-mail", "Role", "Status", "Chats", "Last seen", ""].map((h) => el("th", {}, h)))),
        tbody),
      status, error,
      el("h2", {}, "Add an agent"),
      createForm(),
      resetDialog.node);
    await refresh();
  }
  return { load };
}

/** The "Reset password" dialog: a new password for someone else (their sessions end). */
function passwordDialog() {
  const input = el("input", { type: "password", minLength: 8, required: true, autocomplete: "new-password", ariaLabel: "New password" });
  const title = el("h2");
  const form = el("form", { method: "dialog" }, title,
    el("label", {}, "New password ", input),
    el("div", { className: "actions" },
      el("button", { type: "button", value: "cancel", onclick: () => node.close() }, "Cancel"),
      el("button", { type: "submit", value: "ok" }, "Set password")));
  const node = el("dialog", { className: "reset-dialog" }, form);
  let then = null;
  form.onsubmit = (e) => {
    e.preventDefault();
    node.close();
    if (then) then(input.value);
  };
  return {
    node,
    open(agent, onPassword) {
      title.textContent = `New password for ${agent.name}`;
      input.value = "";
      then = onPassword;
      node.showModal();
    },
  };
}
