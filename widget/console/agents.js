// The agent roster (status and load of everyone) and this agent's own status selector.
import { $ } from "./dom.js";

export function createRoster({ api, auth }) {
  let agents = [];

  async function load() {
    agents = await api("/agent/agents");
    const me = agents.find((a) => a.id === auth.me.id);
    if (me && me.status !== "offline") $("status").value = me.status;
    return agents;
  }

  const byId = (id) => agents.find((a) => a.id === id);
  const others = () => agents.filter((a) => a.id !== auth.me.id);

  return { load, byId, others };
}
