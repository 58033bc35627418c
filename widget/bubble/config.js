// The embedding site's options: data-* attributes on the <script> tag, or
// window.chatdeskConfig = {...} set before it (docs/protocol.md "Embedding the widget").
import { pickLocale } from "./texts.js";

/**
 * script: the widget's own <script> element (document.currentScript, read while it runs);
 * win: the page's window. Every value the page gives is checked where it is used.
 */
export function readConfig(script, win) {
  const ds = (script && script.dataset) || {};
  const cfg = win.chatdeskConfig || {};
  const opt = (key, attr, fallback) => cfg[key] ?? ds[attr || key] ?? fallback;

  // The chatdesk server: data-chatdesk-url, else where the script itself came from.
  const base = new URL(opt("url", "chatdeskUrl", "") || (script && script.src) || "/", win.location.href);
  const root = (base.origin + base.pathname.replace(/widget\.js$/, "")).replace(/\/+$/, "");

  // The site's language if we speak it, else the browser's best one we do (texts.js).
  const nav = win.navigator || {};
  const picked = pickLocale(opt("locale", "", null), nav.languages || (nav.language ? [nav.language] : []));
  const position = opt("position", "", null);

  return {
    root,
    wsUrl: root.replace(/^http/, "ws") + "/ws/visitor",
    locale: picked.locale, // sent in hello (the server writes in it) and formats dates
    lang: picked.lang, // the texts.js language shown
    dir: picked.dir, // rtl mirrors the panel, and the launcher unless the site placed it
    strings: cfg.strings || {}, // a site's own wording, per key of texts.js
    title: opt("title", "", null),
    greeting: opt("greeting", "", null),
    color: opt("color", "", null),
    textColor: opt("textColor", "textColor", null),
    side: position === "left" || position === "right" ? position : picked.dir === "rtl" ? "left" : "right",
    soundDefault: opt("sound", "", "off") === "on",
    identity: () => parseIdentity(opt("identity", "identity", null)),
    // The page's ?query and #fragment reach agents only when the site says so (they carry
    // reset tokens and OAuth codes): data-keep-page-query="on" or keepPageQuery: true.
    keepPageQuery: [true, "on", "true"].includes(opt("keepPageQuery", "keepPageQuery", false)),
    // The admin console's live preview (/admin/widget-preview): no socket until someone types,
    // storage of its own, and the draft look instead of the saved one.
    preview: [true, "on", "true"].includes(opt("preview", "preview", false)),
  };
}

/** The look an admin saved (GET /api/widget/config: title, greeting, color); null if none
 * could be read (a site's CSP, the server unreachable): the bubble then keeps its defaults. */
export async function fetchSavedLook(config, fetchFn) {
  try {
    const r = await fetchFn(config.root + "/api/widget/config", { credentials: "omit" });
    return r.ok ? await r.json() : null;
  } catch (e) {
    return null;
  }
}

/** The look to show: the page's own values (data-*, chatdeskConfig, its strings) win, then the
 * saved one; null leaves the bubble's default (texts.js). */
export function lookFrom(config, saved) {
  const s = saved && typeof saved === "object" ? saved : {};
  const str = (v) => (typeof v === "string" && v ? v : null);
  const mine = (key) => config[key] ?? (config.strings[key] ? null : str(s[key]));
  return { ...config, title: mine("title"), greeting: mine("greeting"), color: config.color ?? str(s.color) };
}

/** The site's signed identity claim (an object, or its JSON text); null when there is none. */
export function parseIdentity(id) {
  if (typeof id === "string") { try { id = JSON.parse(id); } catch (e) { id = null; } }
  return id && typeof id === "object" ? id : null;
}
