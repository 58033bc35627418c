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

/** Append `text` to `el`, with the http(s) URLs in it as links that open in a new tab. */
export function linkify(el, text, base) {
  const re = /\bhttps?:\/\/[^\s<>"'`]+/g;
  let at = 0, m;
  while ((m = re.exec(text))) {
    const url = m[0].replace(/[.,;:!?)\]}]+$/, ""); // sentence punctuation is not part of the link
    const href = safeUrl(url, base);
    if (!href) continue;
    el.append(text.slice(at, m.index));
    el.append(h("a", "", url, { href, target: "_blank", rel: "noopener noreferrer" }));
    at = m.index + url.length;
    re.lastIndex = at;
  }
  el.append(text.slice(at));
}

/** Intl.DateTimeFormat for the site's locale, or the browser's when that locale is unknown. */
export function dateFormat(locale, opts) {
  try { return new Intl.DateTimeFormat(locale, opts); } catch (e) { return new Intl.DateTimeFormat(undefined, opts); }
}
