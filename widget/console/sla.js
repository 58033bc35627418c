// SLA timers in the conversation lists: time left until the reply is due, or how long it is
// overdue, ticking every second; breached ones highlighted. The server computes the clock in
// business time (handoff/sla.py) and sends it on every list row as `sla` (docs/protocol.md).
import { el } from "./dom.js";

const TICK_MS = 1000; // the countdown shows seconds
const METRIC = { first_response: "first reply", next_response: "next reply" };

/** "4:05", "1h 20m", "2d 3h": short enough for a list row. */
export function fmtSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 86400) return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** What a timer says at `now` (ms): [text, breached]. */
export function slaText(sla, now) {
  const what = METRIC[sla.metric] || sla.metric;
  if (sla.paused) return [`${what} · paused (waiting on the customer)`, sla.breached];
  if (!sla.due_at) return [`${what} · no target`, false];
  const left = Date.parse(sla.due_at) - now;
  if (sla.breached || left <= 0) return [`${what} overdue ${fmtSpan(-left)}`, true];
  return [`${what} due in ${fmtSpan(left)}`, false];
}

function paint(node, now) {
  const [text, breached] = slaText(node.sla, now);
  node.textContent = text;
  node.classList.toggle("breached", breached);
  node.closest("button")?.classList.toggle("sla-breached", breached);
}

/** The timer element of a list row (null: no clock runs). */
export function slaBadge(sla) {
  if (!sla) return null;
  const node = el("span", { className: "sla" });
  node.sla = sla;
  node.dataset.metric = sla.metric;
  return node;
}

/** Paint every timer now and then every second. */
export function startSlaTicker(root = document) {
  const tick = () => root.querySelectorAll(".sla").forEach((n) => n.sla && paint(n, Date.now()));
  tick();
  return setInterval(tick, TICK_MS);
}

/** Paint the timers just added (a list was rendered). */
export function paintSla(root) {
  root.querySelectorAll(".sla").forEach((n) => n.sla && paint(n, Date.now()));
}
