// chatdesk admin console (/admin): the knowledge base, the team, business hours and the
// widget's look, integrations (webhooks, API keys). Uses only the /api/admin REST endpoints (and /api/agent/me), with the login
// token the agent console keeps in this tab's sessionStorage. GET /static/admin.js serves this
// file and the modules it imports joined into one script (app/widget_bundle.py).
import { createAgentsAdmin } from "./admin/agents.js";
import { createApiKeysAdmin } from "./admin/api_keys.js";
import { createCannedAdmin } from "./admin/canned.js";
import { createKbAdmin } from "./admin/kb.js";
import { createReportsAdmin } from "./admin/reports.js";
import { createMissesAdmin } from "./admin/misses.js";
import { createSettingsAdmin } from "./admin/settings.js";
import { createTeamsAdmin } from "./admin/teams.js";
import { createWebhooksAdmin } from "./admin/webhooks.js";
import { createApi } from "./console/api.js";
import { $, showError } from "./console/dom.js";

const TOKEN_KEY = "chatdesk.agentToken"; // the same key as the agent console (console.js)

const auth = { token: sessionStorage.getItem(TOKEN_KEY), me: null };
const api = createApi({ token: () => auth.token, onUnauthorized: toLogin });
const sections = {
  kb: createKbAdmin({ api, root: $("kb") }),
  agents: createAgentsAdmin({ api, auth, root: $("agents") }),
  teams: createTeamsAdmin({ api, root: $("teams") }),
  settings: createSettingsAdmin({ api, root: $("settings") }),
  integrations: both(
    createWebhooksAdmin({ api, root: $("webhooks") }),
    createApiKeysAdmin({ api, root: $("api-keys") }),
  ),
  canned: createCannedAdmin({ api, root: $("canned") }), // issue 15
  reports: createReportsAdmin({ api, token: () => auth.token, root: $("reports") }), // issue 15
  misses: createMissesAdmin({ api, root: $("misses") }), // issue 15
};

/** One tab made of several parts: loading it loads each. */
function both(...parts) {
  return { load: () => Promise.all(parts.map((p) => p.load())) };
}

function toLogin() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.assign("/agent?next=/admin");
}

/** Show the section the URL's #fragment names (the knowledge base by default), load it. */
function showTab() {
  const name = sections[location.hash.slice(1)] ? location.hash.slice(1) : "kb";
  for (const id of Object.keys(sections)) $(id).hidden = id !== name;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.tab === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  showError(null);
  sections[name].load().catch(showError);
}

async function start() {
  if (!auth.token) return toLogin();
  auth.me = await api("/agent/me");
  $("me-name").textContent = auth.me.name;
  window.addEventListener("hashchange", showTab);
  showTab();
}

$("logout").onclick = async () => {
  await fetch("/api/agent/logout", { method: "POST", headers: { Authorization: "Bearer " + auth.token } })
    .catch(() => {});
  toLogin();
};

start().catch(showError);
