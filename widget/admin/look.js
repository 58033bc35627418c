// The widget part of the hours and widget section: title, greeting, colour and the ticket
// promise (GET/PUT/DELETE /api/admin/settings/widget), previewed live with the REAL widget in a
// frame (/admin/widget-preview): every keystroke posts the draft to it, nothing is saved until
// "Save". The promise is shown filled with sample values; the server checks its {placeholders}.
import { el, fmtDate } from "../console/dom.js";

const PREVIEW_URL = "/admin/widget-preview";
const COLOR_RE = /^#[0-9a-f]{6}$/i;
const SAMPLE = { // what a visitor might read, for the promise's preview (`when`: the server's)
  why: "We're closed at the moment", ticket_id: "123", when: "",
};

export function createLookAdmin({ api }) {
  const title = el("input", { id: "look-title", maxLength: 60, size: 40, placeholder: "Chat with us" });
  const greeting = el("textarea", { id: "look-greeting", maxLength: 500, rows: 3, cols: 44,
    placeholder: "Hi! Ask us anything. A person is always one click away." });
  const picker = el("input", { type: "color", id: "look-color-picker", value: "#2456d3" });
  const color = el("input", { id: "look-color", maxLength: 7, size: 8, placeholder: "#2456d3" });
  const promise = el("textarea", { id: "look-promise", maxLength: 500, rows: 4, cols: 44 });
  const promiseHelp = el("p", { className: "muted help" });
  const promiseShown = el("p", { className: "promise", id: "look-promise-preview" });
  const source = el("p", { className: "muted", id: "look-source" });
  const status = el("p", { className: "saved", role: "status", id: "look-status" });
  const error = el("p", { className: "error", role: "alert", id: "look-error" });
  const frame = el("iframe", { src: PREVIEW_URL, title: "Widget preview", className: "preview", id: "look-preview" });
  const form = el("form", { className: "look", noValidate: true });
  let defaultPromise = "";

  const draft = () => ({
    title: title.value.trim() || null,
    greeting: greeting.value.trim() || null,
    color: color.value.trim() || null,
    ticket_promise: promise.value.trim() || null,
  });

  /** The draft into the preview frame (the widget checks the colour again) and the promise. */
  function preview() {
    const d = draft();
    const win = frame.contentWindow;
    const shown = COLOR_RE.test(d.color || "") ? d.color : null;
    if (win) win.postMessage({ type: "chatdesk-preview", look: { ...d, color: shown } }, location.origin);
    promiseShown.textContent = (d.ticket_promise || defaultPromise)
      .replace(/\{(\w+)\}/g, (m, name) => SAMPLE[name] ?? m);
  }

  function show(w) {
    title.value = w.title || "";
    greeting.value = w.greeting || "";
    color.value = w.color || "";
    if (w.color) picker.value = w.color;
    defaultPromise = w.default_ticket_promise;
    SAMPLE.when = w.sample_when;
    promise.value = w.ticket_promise || "";
    promise.placeholder = w.default_ticket_promise;
    promiseHelp.textContent = "Empty: our own wording. Placeholders: "
      + w.promise_placeholders.map((p) => `{${p}}`).join(", ") + " ({when} is required).";
    source.textContent = w.source === "saved" ? `Saved in the console ${fmtDate(w.updated_at)}.`
      : "The widget's defaults (nothing saved here); a site's own data-* attributes always win.";
    preview();
  }

  async function run(what, call) {
    status.textContent = ""; error.textContent = "";
    try { show(await call()); status.textContent = what; } catch (e) { error.textContent = e.message; }
  }

  for (const input of [title, greeting, color, promise]) input.addEventListener("input", preview);
  picker.addEventListener("input", () => { color.value = picker.value; preview(); });
  color.addEventListener("input", () => { if (COLOR_RE.test(color.value.trim())) picker.value = color.value.trim(); });
  frame.addEventListener("load", preview);
  form.onsubmit = (e) => {
    e.preventDefault();
    run("Saved: visitors see this look now.", () => api("/admin/settings/widget", { method: "PUT", body: JSON.stringify(draft()) }));
  };
  const reset = el("button", { type: "button", id: "look-reset", onclick: () => {
    if (confirm("Forget the look saved here and use the widget's defaults?")) {
      run("Reset to the defaults.", () => api("/admin/settings/widget", { method: "DELETE" }));
    }
  } }, "Reset to the defaults");

  const field = (label, id, ...inputs) => el("p", { className: "field" },
    el("label", { htmlFor: id }, label), el("br"), ...inputs);
  form.append(
    el("h2", {}, "Widget"), source,
    field("Title", "look-title", title),
    field("Greeting", "look-greeting", greeting),
    field("Colour (#rrggbb)", "look-color", picker, " ", color),
    field("Ticket promise", "look-promise", promise), promiseHelp,
    el("p", { className: "muted" }, "A visitor reads:"), promiseShown,
    error, status,
    el("p", { className: "buttons" }, el("button", { type: "submit", id: "look-save" }, "Save widget"), " ", reset),
  );
  picker.setAttribute("aria-label", "Pick a colour");
  const root = el("div", { className: "look-part" }, form,
    el("div", { className: "preview-box" }, el("h3", {}, "Preview: the real widget with your draft"), el("p", { className: "muted" }, "Nothing is saved until you save; typing in it starts a real chat."), frame));

  async function load() { show(await api("/admin/settings/widget")); }
  return { root, load };
}
