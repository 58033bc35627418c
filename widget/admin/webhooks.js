// The webhooks part of /admin → Integrations (issue 18): endpoints, events, delivery log, test.
// Uses only /api/admin/webhooks. Every value is shown as text (el() sets textContent), never HTML.
import { el, fmtDate } from "../console/dom.js";

const POLL_MS = 1000; // after "Send test event": look at the log again until it settled
const POLL_TIMES = 15;

export function createWebhooksAdmin({ api, root }) {
  const status = el("p", { className: "muted", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const tbody = el("tbody");
  const secretBox = el("div", { className: "webhook-secret", hidden: true });
  const typesBox = el("fieldset", { className: "webhook-types" });
  const logBox = el("section", { className: "webhook-log", hidden: true, ariaLabel: "Delivery log" });
  let shownLog = null; // the endpoint whose log is open

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { error.textContent = e.message || String(e); }
  const send = (path, method, body) => api(path, { method, body: body && JSON.stringify(body) });

  /** Run one action, then show its outcome and the fresh list. */
  async function act(promise, done) {
    try {
      const out = await promise;
      say(typeof done === "function" ? done(out) : done);
      await refresh();
      return out;
    } catch (e) { fail(e); return null; }
  }

  function showSecret(endpoint, secret) {
    secretBox.replaceChildren(
      el("strong", {}, "Signing secret for " + endpoint.url),
      el("p", {}, "Copy it now: it is not shown again. Receivers check X-Chatdesk-Signature with it."),
      el("code", { className: "secret" }, secret),
      el("button", { type: "button", onclick: () => { secretBox.hidden = true; } }, "Done"));
    secretBox.hidden = false;
  }

  function row(e) {
    const test = el("button", { type: "button", className: "test", onclick: async () => {
      const out = await act(send(`/admin/webhooks/${e.id}/test`, "POST"), "Test event queued.");
      if (out) await openLog(e, (ds) => ds.some((d) => d.event_id === out.event_id && d.attempts.length));
    } }, "Send test event");
    const log = el("button", { type: "button", className: "log", onclick: () => openLog(e) }, "Delivery log");
    const rotate = el("button", { type: "button", className: "rotate", onclick: async () => {
      const out = await act(send(`/admin/webhooks/${e.id}/secret`, "POST"),
        "New secret made; the old one keeps signing for 24 hours.");
      if (out) showSecret(e, out.secret);
    } }, "Rotate secret");
    const toggle = el("button", { type: "button", className: "toggle", onclick: () =>
      act(send(`/admin/webhooks/${e.id}`, "PATCH", { enabled: !e.enabled }),
        e.enabled ? "Disabled: nothing is sent to it until it is enabled." : "Enabled.") },
    e.enabled ? "Disable" : "Enable");
    const remove = el("button", { type: "button", className: "danger remove", onclick: () => {
      if (!window.confirm(`Delete the webhook to ${e.url} with its delivery log?`)) return;
      if (shownLog === e.id) logBox.hidden = true;
      act(send(`/admin/webhooks/${e.id}`, "DELETE"), "Deleted.");
    } }, "Delete");
    const counts = `${e.delivered} delivered · ${e.pending} pending · ${e.failed} failed`;
    const tr = el("tr", { className: e.enabled ? "" : "disabled" },
      el("td", { className: "url" }, el("div", {}, e.url), e.description ? el("div", { className: "muted" }, e.description) : ""),
      el("td", { className: "types" }, e.event_types.join(", ")),
      el("td", {}, el("span", { className: "state " + (e.enabled ? "online" : "offline") }, e.enabled ? "Enabled" : "Disabled"),
        el("div", { className: "muted counts" }, counts)),
      el("td", { className: "row-actions" }, el("div", {}, test, log, rotate, toggle, remove)));
    tr.dataset.url = e.url;
    return tr;
  }

  function attemptText(a) {
    const what = a.status_code !== null ? `HTTP ${a.status_code}` : a.error || "error";
    return `${fmtDate(a.at)} · ${what}${a.error && a.status_code !== null ? " (" + a.error + ")" : ""} · ${a.duration_ms} ms`;
  }

  function logRow(endpoint, d) {
    const retry = d.status === "failed" || d.status === "delivered"
      ? el("button", { type: "button", className: "retry", onclick: async () => {
        await act(send(`/admin/webhooks/${endpoint.id}/deliveries/${d.id}/retry`, "POST"), "Delivering it again.");
        const before = d.attempts.length;
        await openLog(endpoint, (ds) => ds.some((x) => x.id === d.id && x.attempts.length > before));
      } }, d.status === "failed" ? "Retry" : "Send again")
      : "";
    const tr = el("tr", { className: "delivery " + d.status },
      el("td", {}, fmtDate(d.created_at)),
      el("td", {}, el("div", {}, d.event_type), el("div", { className: "muted mono" }, d.event_id)),
      el("td", {}, el("span", { className: "delivery-status " + d.status }, d.status),
        d.next_attempt_at ? el("div", { className: "muted" }, "next try " + fmtDate(d.next_attempt_at)) : ""),
      el("td", {}, el("ol", { className: "attempts" }, ...d.attempts.map((a) =>
        el("li", { className: a.status_code >= 200 && a.status_code < 300 ? "ok" : "bad" }, attemptText(a))))),
      el("td", {}, retry));
    return tr;
  }

  /** Show an endpoint's deliveries; with `until`, look again every second until it holds. */
  async function openLog(endpoint, until = null) {
    shownLog = endpoint.id;
    const body = el("tbody");
    const refreshLog = el("button", { type: "button", className: "refresh-log", onclick: () => openLog(endpoint) }, "Refresh");
    logBox.replaceChildren(
      el("h3", {}, "Delivery log: " + endpoint.url), refreshLog,
      el("table", { className: "deliveries" },
        el("thead", {}, el("tr", {}, ...["Created", "Event", "Status", "Attempts", ""].map((h) => el("th", {}, h)))),
        body));
    logBox.hidden = false;
    for (let i = 0; i < (until ? POLL_TIMES : 1); i++) {
      let deliveries;
      try { deliveries = await api(`/admin/webhooks/${endpoint.id}/deliveries`); } catch (e) { fail(e); return; }
      if (shownLog !== endpoint.id) return; // another log was opened meanwhile
      body.replaceChildren(...(deliveries.length ? deliveries.map((d) => logRow(endpoint, d))
        : [el("tr", {}, el("td", { colSpan: 5, className: "muted" }, "Nothing delivered yet."))]));
      if (!until || until(deliveries)) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await refresh().catch(fail); // the endpoint's counts, as of this log
  }

  async function refresh() {
    const data = await api("/admin/webhooks");
    tbody.replaceChildren(...(data.endpoints.length ? data.endpoints.map(row)
      : [el("tr", {}, el("td", { colSpan: 4, className: "muted" }, "No webhooks yet: add one below."))]));
    if (!typesBox.childElementCount) fillTypes(data.event_types);
  }

  function fillTypes(types) {
    typesBox.replaceChildren(el("legend", {}, "Events to send"), ...types.map((t) => {
      const box = el("input", { type: "checkbox", name: "event_type", value: t.type });
      return el("label", { className: "check", title: t.description }, box, t.type,
        t.emitted ? "" : el("span", { className: "muted" }, " (not sent yet)"));
    }));
  }

  function createForm() {
    const url = el("input", { type: "url", name: "url", required: true, placeholder: "https://crm.example.com/hooks/chatdesk", size: 48, ariaLabel: "Endpoint URL" });
    const description = el("input", { name: "description", maxLength: 200, placeholder: "what receives it (optional)", ariaLabel: "Description" });
    const form = el("form", { className: "create-webhook", ariaLabel: "New webhook" },
      el("div", { className: "inline" }, el("label", {}, "URL ", url), el("label", {}, "Description ", description)),
      typesBox,
      el("button", { type: "submit" }, "Add endpoint"));
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const types = [...typesBox.querySelectorAll("input:checked")].map((b) => b.value);
      if (!types.length) { fail(new Error("Pick at least one event to send.")); return; }
      const body = { url: url.value, description: description.value || null, event_types: types };
      const out = await act(send("/admin/webhooks", "POST", body), (e) => `Added ${e.url}.`);
      if (out) { form.reset(); showSecret(out, out.secret); }
    };
    return form;
  }

  async function load() {
    typesBox.replaceChildren();
    root.replaceChildren(
      el("h2", {}, "Webhooks"),
      el("p", { className: "muted" }, "chatdesk POSTs a signed JSON event to each URL when something happens in a chat: " +
        "delivered at least once (receivers deduplicate on the event id), retried with backoff when the receiver fails."),
      el("table", { className: "webhooks" },
        el("thead", {}, el("tr", {}, ...["Endpoint", "Events", "Status", ""].map((h) => el("th", {}, h)))),
        tbody),
      status, error, secretBox,
      el("h3", {}, "Add an endpoint"),
      createForm(),
      logBox);
    await refresh();
  }
  return { load };
}
