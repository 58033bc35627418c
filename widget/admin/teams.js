// The teams section of /admin (issue 16): add, rename and delete teams ("Orders", "Returns"),
// tick who is in each. A chat for a team (the bot's topic, the visitor's pick, a transfer) goes
// to its members first. Uses /api/admin/teams and /api/admin/agents; values shown as text only.
import { el } from "../console/dom.js";

export function createTeamsAdmin({ api, root }) {
  const status = el("p", { className: "muted", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const list = el("div", { className: "teams" });

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { error.textContent = e.message || String(e); }

  async function act(promise, done) {
    try {
      await promise;
      say(done);
      await refresh();
    } catch (e) { fail(e); }
  }

  const call = (method, path, body) => api(path, { method, body: body && JSON.stringify(body) });

  function teamCard(team, agents) {
    const name = el("input", { value: team.name, maxLength: 100, className: "team-name", ariaLabel: `Name of ${team.name}` });
    const rename = el("button", { type: "button", className: "rename", onclick: () =>
      act(call("PATCH", `/admin/teams/${team.id}`, { name: name.value }), `${team.name} is now ${name.value.trim()}.`) }, "Rename");
    const remove = el("button", { type: "button", className: "delete", onclick: () => {
      if (!confirm(`Delete the team ${team.name}? Its chats and topics go to everyone.`)) return;
      act(call("DELETE", `/admin/teams/${team.id}`), `${team.name} is deleted.`);
    } }, "Delete");
    const members = agents.filter((a) => !a.disabled_at).map((a) => {
      const box = el("input", { type: "checkbox", checked: team.member_ids.includes(a.id), value: String(a.id) });
      box.onchange = () => act(call(box.checked ? "PUT" : "DELETE", `/admin/teams/${team.id}/members/${a.id}`),
        box.checked ? `${a.name} is in ${team.name}.` : `${a.name} left ${team.name}.`);
      return el("label", { className: "check member" }, box, a.name);
    });
    const card = el("fieldset", { className: "team" },
      el("legend", {}, team.name),
      el("div", { className: "inline" }, name, rename, remove),
      el("div", { className: "members", role: "group", ariaLabel: `Members of ${team.name}` }, ...members));
    card.dataset.team = team.name;
    return card;
  }

  async function refresh() {
    const [teams, agents] = await Promise.all([api("/admin/teams"), api("/admin/agents")]);
    list.replaceChildren(...(teams.length ? teams.map((t) => teamCard(t, agents))
      : [el("p", { className: "muted" }, "No teams yet: every chat goes to everyone.")]));
  }

  function createForm() {
    const name = el("input", { name: "name", required: true, maxLength: 100, ariaLabel: "Team name" });
    const form = el("form", { className: "inline create-team", ariaLabel: "New team" },
      el("label", {}, "Name ", name), el("button", { type: "submit" }, "Add team"));
    form.onsubmit = (e) => {
      e.preventDefault();
      const value = name.value;
      act(call("POST", "/admin/teams", { name: value }).then(() => form.reset()), `${value.trim()} is added: tick its members.`);
    };
    return form;
  }

  async function load() {
    root.replaceChildren(
      el("h1", {}, "Teams"),
      el("p", { className: "muted" }, "A chat for a team goes to its online members first, and to anyone after the fallback time (CHATDESK_TEAM_FALLBACK_S). FAQ entries name their team in the knowledge base."),
      list, status, error,
      el("h2", {}, "Add a team"),
      createForm());
    await refresh();
  }
  return { load };
}
