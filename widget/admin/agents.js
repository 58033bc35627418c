// The agents section of /admin (issue 14): the team, roles, capacity, disable, passwords.
import { el } from "../console/dom.js";

export function createAgentsAdmin({ api, auth, root }) {
  async function load() {
    root.replaceChildren(el("h1", {}, "Agents"));
  }
  return { load };
}
