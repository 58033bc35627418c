// DOM helpers for the console page. Data goes in as text (textContent, text nodes), never HTML.

export const $ = (id) => document.getElementById(id);

/** el("li", {className: "x"}, "text", child): props are assigned, children appended. */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "");
export const fmtDate = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "");

/** The console's one error line (null clears it). */
export function showError(e) {
  $("error").textContent = e ? (e.message || String(e)) : "";
}
