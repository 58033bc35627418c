// What an agent does to the open conversation: take, close, reopen, transfer (with a note to the
// colleague), and a ticket's status.
import { $, el, showError } from "./dom.js";

/** conversation: conversation.js; lists: lists.js; roster: agents.js. */
export function createActions({ api, conversation, lists, roster }) {
  async function act(path, body) {
    showError(null);
    try {
      await api(`/agent/conversations/${conversation.current()}/${path}`, { method: "POST", body: body ? JSON.stringify(body) : undefined });
      await conversation.reloadHeader();
      lists.scheduleRefresh();
    } catch (err) { showError(err); }
  }

  async function openTransfer() {
    const [, teams] = await Promise.all([roster.load(), api("/agent/teams").catch(() => [])]);
    const sel = $("transfer-to");
    sel.textContent = "";
    for (const a of roster.others()) {
      sel.append(el("option", { value: a.id, textContent: `${a.name} (${a.status}, ${a.active}/${a.capacity})` }));
    }
    // Issue 16: a team's queue (its members first, anyone after the fallback time).
    if (teams.length) {
      sel.append(el("optgroup", { label: "Teams" },
        ...teams.map((t) => el("option", { value: `team:${t.id}`, textContent: `${t.name} team (${t.member_ids.length} members)` }))));
    }
    $("transfer-note").value = "";
    $("transfer-dialog").showModal();
  }

  $("take").onclick = () => act("take");
  $("close").onclick = () => act("close");
  $("reopen").onclick = () => act("reopen");
  $("transfer").onclick = () => openTransfer().catch(showError);
  $("transfer-cancel").onclick = () => $("transfer-dialog").close();
  $("transfer-form").onsubmit = (e) => {
    e.preventDefault();
    $("transfer-dialog").close();
    const to = $("transfer-to").value;
    const target = to.startsWith("team:") ? { to_team_id: Number(to.slice(5)) } : { to_agent_id: Number(to) };
    act("transfer", { ...target, note: $("transfer-note").value });
  };
  $("ticket-status").onchange = async () => {
    try {
      const ctx = await api(`/agent/conversations/${conversation.current()}/context`);
      await api(`/agent/tickets/${ctx.ticket.id}`, { method: "PATCH", body: JSON.stringify({ status: $("ticket-status").value }) });
      lists.scheduleRefresh();
    } catch (err) { showError(err); }
  };
}
