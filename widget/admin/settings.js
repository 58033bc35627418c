// The hours and widget section of /admin (issue 14): business hours per weekday, the time zone
// and holidays (GET/PUT/DELETE /api/admin/settings/hours), then the widget's look with its live
// preview (look.js). Saved hours reach every escalation on every replica at once; "reset"
// goes back to the environment's settings (CHATDESK_BUSINESS_HOURS and friends).
import { el, fmtDate } from "../console/dom.js";
import { createLookAdmin } from "./look.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
  ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const MAX_SPANS = 4; // as the server (handoff/hours.py MAX_SPANS_PER_DAY)

function timeInput(value, label) {
  return el("input", {
    value, placeholder: "09:00", size: 5, maxLength: 5, inputMode: "numeric",
    pattern: "\\d{2}:\\d{2}", className: "time", ariaLabel: label,
  });
}

export function createSettingsAdmin({ api, root }) {
  const look = createLookAdmin({ api });
  const form = el("form", { className: "hours", noValidate: true });
  const source = el("p", { className: "muted", id: "hours-source" });
  const alwaysOpen = el("input", { type: "checkbox", id: "hours-always" });
  const table = el("table", { className: "week" });
  const zone = el("input", { id: "hours-zone", autocomplete: "off", size: 28 });
  const zones = el("datalist", { id: "hours-zones" });
  zone.setAttribute("list", "hours-zones");
  const holidayList = el("ul", { className: "holidays", id: "hours-holidays" });
  const holidayInput = el("input", { type: "date", id: "hours-holiday-new" });
  const status = el("p", { className: "saved", role: "status", id: "hours-status" });
  const error = el("p", { className: "error", role: "alert", id: "hours-error" });
  const spans = {}; // weekday -> <div> of span rows
  const adders = {}; // weekday -> its "Add hours" button
  let holidays = [];

  function spanRow(day, name, open = "09:00", close = "17:00") {
    const row = el("span", { className: "span" },
      timeInput(open, `${name} opens`), " – ", timeInput(close, `${name} closes`),
      el("button", { type: "button", className: "remove", ariaLabel: `Remove these ${name} hours`,
        onclick: () => { row.remove(); dayChanged(day); } }, "×"));
    return row;
  }

  function dayChanged(day) {
    const box = spans[day];
    const closed = box.querySelectorAll(".span").length === 0;
    box.querySelector(".closed").hidden = !closed;
    adders[day].disabled = box.querySelectorAll(".span").length >= MAX_SPANS;
  }

  for (const [day, name] of DAYS) {
    const box = el("div", { className: "spans", id: `hours-${day}` }, el("span", { className: "closed muted" }, "Closed"));
    spans[day] = box;
    const add = el("button", { type: "button", className: "add", onclick: () => {
      box.append(spanRow(day, name)); dayChanged(day);
    } }, "Add hours");
    add.setAttribute("aria-label", `Add ${name} hours`);
    adders[day] = add;
    table.append(el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, box), el("td", {}, add)));
  }

  function renderHolidays() {
    holidayList.replaceChildren(...holidays.map((d) => el("li", {}, d, " ",
      el("button", { type: "button", ariaLabel: `Remove holiday ${d}`,
        onclick: () => { holidays = holidays.filter((x) => x !== d); renderHolidays(); } }, "×"))));
    if (!holidays.length) holidayList.append(el("li", { className: "muted" }, "No holidays."));
  }

  function show(h) {
    alwaysOpen.checked = h.always_open;
    table.hidden = h.always_open;
    for (const [day, name] of DAYS) {
      spans[day].querySelectorAll(".span").forEach((s) => s.remove());
      for (const s of h.days[day] || []) spans[day].append(spanRow(day, name, s.open, s.close));
      dayChanged(day);
    }
    zone.value = h.timezone;
    holidays = [...h.holidays];
    renderHolidays();
    const now = h.always_open ? "Open around the clock." : h.open_now ? "Open now."
      : h.next_opening ? `Closed now; next opening ${fmtDate(h.next_opening)}.` : "Closed now; no opening ahead.";
    source.textContent = (h.source === "saved"
      ? `Saved in the console ${fmtDate(h.updated_at)}. ` : "The environment's settings (nothing saved here). ") + now;
  }

  function body() {
    const days = {};
    for (const [day] of DAYS) {
      days[day] = [...spans[day].querySelectorAll(".span")].map((row) => {
        const [open, close] = row.querySelectorAll("input");
        return { open: open.value.trim(), close: close.value.trim() };
      });
    }
    return { always_open: alwaysOpen.checked, days, timezone: zone.value.trim(), holidays };
  }

  async function run(what, call) {
    status.textContent = ""; error.textContent = "";
    try { show(await call()); status.textContent = what; } catch (e) { error.textContent = e.message; }
  }

  alwaysOpen.onchange = () => { table.hidden = alwaysOpen.checked; };
  form.onsubmit = (e) => {
    e.preventDefault();
    run("Saved: escalations use these hours now.", () => api("/admin/settings/hours", { method: "PUT", body: JSON.stringify(body()) }));
  };
  const addHoliday = el("button", { type: "button", onclick: () => {
    const d = holidayInput.value;
    if (d && !holidays.includes(d)) { holidays = [...holidays, d].sort(); renderHolidays(); }
    holidayInput.value = "";
  } }, "Add holiday");
  const reset = el("button", { type: "button", id: "hours-reset", onclick: () => {
    if (confirm("Forget the hours saved here and use the environment's settings?")) {
      run("Reset to the environment's settings.", () => api("/admin/settings/hours", { method: "DELETE" }));
    }
  } }, "Reset to the environment's values");

  form.append(
    el("h2", {}, "Business hours"), source,
    el("label", { className: "check" }, alwaysOpen, " Open around the clock"),
    table,
    el("p", {}, el("label", { htmlFor: "hours-zone" }, "Time zone "), zone, zones),
    el("h3", {}, "Holidays (closed all day)"), holidayList,
    el("p", {}, el("label", { htmlFor: "hours-holiday-new" }, "Date "), holidayInput, " ", addHoliday),
    error, status,
    el("p", { className: "buttons" }, el("button", { type: "submit", id: "hours-save" }, "Save hours"), " ", reset),
  );

  let zonesLoaded = false;
  async function load() {
    root.replaceChildren(el("h1", {}, "Hours & widget"), form, look.root);
    const [hours] = await Promise.all([api("/admin/settings/hours"), look.load()]);
    show(hours);
    if (!zonesLoaded) {
      zones.replaceChildren(...(await api("/admin/settings/timezones")).map((z) => el("option", { value: z })));
      zonesLoaded = true;
    }
  }
  return { load };
}
