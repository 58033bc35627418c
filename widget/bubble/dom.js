// DOM helpers. Message data only ever reaches the page through textContent and through
// href/src values that safeUrl() accepted: never as HTML.

export function h(tag, cls, text, attrs) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text != null) el.textContent = text;
  for (const k in attrs || {}) el.setAttribute(k, attrs[k]);
  return el;
}

export function btn(text, cls, onclick, attrs) {
  const b = h("button", cls, text, Object.assign({ type: "button" }, attrs));
  b.addEventListener("click", onclick);
  return b;
}

/** An absolute http(s) URL, resolved against `base`; null for anything else (javascript:, data:). */
export function safeUrl(u, base) {
  try { const p = new URL(u, base); return /^https?:$/.test(p.protocol) ? p.href : null; } catch (e) { return null; }
}

/** Intl.DateTimeFormat for the site's locale, or the browser's when that locale is unknown. */
export function dateFormat(locale, opts) {
  try { return new Intl.DateTimeFormat(locale, opts); } catch (e) { return new Intl.DateTimeFormat(undefined, opts); }
}
