// The reports part of /admin (issue 15): a period, a chart per report (Chart.js, served by us
// from widget/node_modules as /static/chart.umd.min.js, loaded before admin.js) and a CSV download each.
// Uses only /api/admin/reports. Every value is shown as text (el() sets textContent), never HTML.
import { el } from "../console/dom.js";

const DEFAULT_DAYS = 30; // as the server's default period (app/routes/reports.py)
const MAX_BARS = 20; // the helpful-rate chart shows the 20 most answered entries; the CSV has all
const COLORS = ["#2456d3", "#c0392b", "#1e8449", "#8a5a00", "#6c3483"];
const pct = (v) => (v == null ? "–" : Math.round(v * 1000) / 10 + " %");
const mins = (s) => (s == null ? null : Math.round(s / 6) / 10); // seconds -> minutes, 1 decimal
const fmtMin = (s) => (s == null ? "–" : mins(s) + " min");

/** Each report: its title, the headline from its summary, and the chart drawn from its rows. */
const REPORTS = [
  { name: "conversations", title: "Conversations per day", type: "bar",
    line: (r) => `${r.summary.conversations} conversations, ${r.summary.escalated} reached a person`,
    data: (r) => ({ labels: col(r, "date"), datasets: [set("Conversations", col(r, "conversations"), 0),
      set("Escalated", col(r, "escalated"), 1)] }) },
  { name: "containment", title: "Bot containment", type: "line", percent: true,
    line: (r) => `${pct(r.summary.containment_rate)} ended without a person and without "not helpful" (${r.summary.contained} of ${r.summary.conversations})`,
    data: (r) => ({ labels: col(r, "date"), datasets: [set("Contained (%)", col(r, "containment_rate").map((v) => (v == null ? null : v * 100)), 2)] }) },
  { name: "escalations", title: "Escalations by reason", type: "bar",
    line: (r) => `${r.summary.escalations} escalations`,
    data: (r) => ({ labels: col(r, "reason"), datasets: [set("Escalations", col(r, "escalations"), 1)] }) },
  { name: "helpful", title: "Helpful rate per FAQ entry", type: "bar", horizontal: true, percent: true,
    line: (r) => `${r.summary.answers} answers, ${r.summary.votes} votes, ${pct(r.summary.helpful_rate)} helpful`,
    data: (r) => { const rows = r.rows.slice(0, MAX_BARS); return { labels: rows.map((x) => x[0]),
      datasets: [set("Helpful (%)", rows.map((x) => (x[4] == null ? null : x[4] * 100)), 2)] }; } },
  { name: "csat", title: "CSAT", type: "bar",
    line: (r) => `${r.summary.ratings} ratings, average ${r.summary.average ?? "–"} stars, ${pct(r.summary.satisfied_share)} gave 4-5`,
    data: (r) => ({ labels: col(r, "stars").map((s) => s + "★"), datasets: [set("Ratings", col(r, "ratings"), 0)] }) },
  { name: "nps", title: "NPS", type: "bar",
    line: (r) => (r.summary.enabled || r.summary.answers
      ? `NPS ${r.summary.nps ?? "–"} from ${r.summary.answers} answers (${r.summary.promoters} promoters, ${r.summary.passives} passives, ${r.summary.detractors} detractors)`
      : "The recommendation question is off (CHATDESK_NPS_QUESTION=true asks it after the stars)."),
    data: (r) => ({ labels: col(r, "score"), datasets: [set("Answers", col(r, "answers"), 4)] }) },
  { name: "response_times", title: "Response times (business hours)", type: "bar",
    line: (r) => r.rows.map((x) => `${x[0].replace(/_/g, " ")}: p50 ${fmtMin(x[2])}, p90 ${fmtMin(x[3])} (${x[1]})`).join(" · "),
    data: (r) => ({ labels: col(r, "metric").map((m) => m.replace(/_/g, " ")),
      datasets: [set("p50 (min)", col(r, "p50_s").map(mins), 0), set("p90 (min)", col(r, "p90_s").map(mins), 1)] }) },
  { name: "agents", title: "Per agent", type: "bar", table: true,
    line: (r) => `${r.summary.agents} agents`,
    data: (r) => ({ labels: col(r, "name"), datasets: [set("Chats", col(r, "chats"), 0)] }) },
];

function col(report, name) {
  const i = report.columns.indexOf(name);
  return report.rows.map((row) => row[i]);
}

function set(label, data, color) {
  return { label, data, backgroundColor: COLORS[color], borderColor: COLORS[color] };
}

const isoDay = (d) => d.toISOString().slice(0, 10);

export function createReportsAdmin({ api, token, root }) {
  const today = new Date();
  const from = el("input", { type: "date", id: "report-from", value: isoDay(new Date(today - (DEFAULT_DAYS - 1) * 864e5)) });
  const to = el("input", { type: "date", id: "report-to", value: isoDay(today) });
  const status = el("p", { className: "muted", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const grid = el("div", { className: "report-grid" });
  const charts = new Map();
  const form = el("form", { className: "inline report-period", onsubmit: (e) => { e.preventDefault(); load(); } },
    el("label", { htmlFor: "report-from" }, "From "), from,
    el("label", { htmlFor: "report-to" }, "To "), to,
    el("button", { type: "submit", className: "primary" }, "Show"));
  root.replaceChildren(el("h1", {}, "Reports"), form, status, error, grid);

  const query = () => `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;

  /** CSV needs the bearer token, which a plain link cannot send: fetch it, save it as a file. */
  async function download(name) {
    const r = await fetch(`/api/admin/reports/${name}.csv?${query()}`, { headers: { Authorization: "Bearer " + token() } });
    if (!r.ok) { error.textContent = `CSV: ${r.status} ${r.statusText}`; return; }
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: `chatdesk-${name}-${from.value}-${to.value}.csv` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function table(report) {
    return el("table", { className: "report-table" },
      el("thead", {}, el("tr", {}, ...report.columns.map((c) => el("th", {}, c.replace(/_/g, " "))))),
      el("tbody", {}, ...report.rows.map((row) => el("tr", {}, ...row.map((v) => el("td", {}, v == null ? "–" : String(v)))))));
  }

  function card(spec, report) { // appended first: Chart.js sizes the canvas from its box
    const canvas = el("canvas", { role: "img", ariaLabel: spec.title + " chart" });
    const box = el("section", { className: "report card", ariaLabel: spec.title },
      el("div", { className: "report-head" }, el("h2", {}, spec.title),
        el("button", { type: "button", className: "csv", onclick: () => download(spec.name).catch((e) => { error.textContent = e.message; }) }, "Download CSV")),
      el("p", { className: "muted summary" }, spec.line(report)),
      el("div", { className: "chart" }, canvas));
    box.dataset.report = spec.name;
    // A keyboard can scroll a wide table too: the box takes focus (role and name for readers).
    if (spec.table) box.append(el("div", { className: "report-table-box", tabIndex: 0, role: "region", ariaLabel: spec.title + " table" }, table(report)));
    grid.append(box);
    if (charts.has(spec.name)) charts.get(spec.name).destroy();
    // eslint-disable-next-line no-undef -- Chart comes from /static/chart.umd.min.js
    charts.set(spec.name, new Chart(canvas, {
      type: spec.type,
      data: spec.data(report),
      options: { animation: false, responsive: true, maintainAspectRatio: false, indexAxis: spec.horizontal ? "y" : "x",
        scales: { [spec.horizontal ? "x" : "y"]: { beginAtZero: true, max: spec.percent ? 100 : undefined } }, plugins: { legend: { position: "bottom" } } },
    }));
    return box;
  }

  let latest = 0; // only the newest request draws: an older one answering late is dropped
  async function load() {
    const mine = ++latest;
    error.textContent = "";
    status.textContent = "Loading…";
    const got = await Promise.all(REPORTS.map((spec) => api(`/admin/reports/${spec.name}?${query()}`)));
    if (mine !== latest) return;
    grid.replaceChildren();
    REPORTS.forEach((spec, i) => card(spec, got[i]));
    status.textContent = `From ${got[0].from} to ${got[0].to} (${got[0].timezone}).`;
  }

  return { load };
}
