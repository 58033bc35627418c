// The API keys part of /admin → Integrations (issue 18): named keys with scopes, revoke.
import { el } from "../console/dom.js";

export function createApiKeysAdmin({ api, root }) {
  async function load() {
    root.replaceChildren(el("h2", {}, "API keys"));
  }
  return { load };
}
