/* chatdesk chat bubble. One line on any page:
 *   <script src="https://HOST/widget.js" data-chatdesk-url="https://HOST" async></script>
 * Options (data-* on that tag, or window.chatdeskConfig = {...} set before it):
 *   color, text-color, position (right|left), greeting, locale, title, sound (on|off),
 *   keep-page-query (on: agents see the page's ?query and #fragment; off by default),
 *   identity (JSON made by the site's server: see docs/protocol.md "Embedding the widget").
 * The title, greeting and colour an admin saved (/admin, GET /api/widget/config) apply where
 * the page sets none of its own. preview (on: the admin console's preview frame, see
 * app/routes/settings_admin.py) connects only once someone types in it.
 * Speaks docs/protocol.md over /ws/visitor. Plain JavaScript, no framework, no build step:
 * GET /widget.js serves this file and the modules it imports joined into one classic script
 * (app/widget_routes.py says how). Message data only ever reaches the page through textContent
 * and validated href/src. */
import { createAlerts } from "./bubble/alerts.js";
import { createComposer } from "./bubble/composer.js";
import { fetchSavedLook, lookFrom, readConfig } from "./bubble/config.js";
import { createMessageLog } from "./bubble/messages.js";
import { applyLook, buildPanel } from "./bubble/panel.js";
import { VisitorSession } from "./bubble/session.js";
import { createStatus } from "./bubble/status.js";
import { openStore } from "./bubble/storage.js";
import { textsFor } from "./bubble/texts.js";
import { themeFrom } from "./bubble/theme.js";
import { createTyping } from "./bubble/typing.js";

const script = document.currentScript; // only set while this script first runs
const LOOK_WAIT_MS = 1500; // the saved look usually arrives well before; never hide the bubble longer

function main() {
  const config = readConfig(script, window);
  const { locale } = config;
  const T = textsFor(config.lang, config.strings);
  // One chatdesk server's keys on the site; the admin's preview keeps apart from real visits.
  const prefix = (config.preview ? "chatdesk-preview:" : "chatdesk:") + config.root + ":";
  const store = openStore(window, "localStorage", prefix); // every page of the site
  const tabStore = openStore(window, "sessionStorage", prefix); // this tab
  const base = config.root + "/"; // relative links and avatars resolve against the server
  const ui = buildPanel({ T, theme: themeFrom(config), title: config.title, greeting: config.greeting, dir: config.dir, lang: config.lang });
  // The look saved in the admin console, under the page's own values (a preview shows its draft).
  const looked = config.preview ? Promise.resolve()
    : fetchSavedLook(config, (...a) => window.fetch(...a)).then((saved) => applyLook(ui, T, lookFrom(config, saved)));
  let isOpen = config.preview || tabStore.get("open", false);

  const hooks = {};
  const session = new VisitorSession({
    store, view: hooks, url: config.wsUrl, WebSocket: window.WebSocket, locale,
    pageUrl: () => location.href, keepPageQuery: config.keepPageQuery, identity: config.identity,
  });
  const messages = createMessageLog({ ui, T, session, base, locale });
  const status = createStatus({ ui, T, session, base, locale });
  const alerts = createAlerts({ ui, T, session, store, soundDefault: config.soundDefault, isOpen: () => isOpen });
  const typing = createTyping({ ui, T, session });
  const composer = createComposer({ ui, T, session, tabStore, messages, typing });

  const connText = (s) => (s === "online" ? T.online : navigator.onLine === false ? T.offline : T.connecting);
  Object.assign(hooks, {
    status(s) { ui.conn.textContent = connText(s); },
    conversationChanged() { messages.renderAll(); typing.showAgent(null); },
    stateChanged() { status.show(); },
    shown(r, f) {
      messages.render(r);
      messages.settleOptions();
      if (f.sender === "agent") typing.showAgent(null);
      if (isOpen && document.visibilityState !== "hidden") session.markRead();
      else if (f.sender !== "visitor") alerts.beep();
      alerts.updateBadge();
      messages.stickToBottom(f.sender === "visitor");
    },
    acked(r) { messages.setStatus(r); messages.place(r); },
    failed(r) { messages.setStatus(r); },
    typing(f) { typing.showAgent(f); },
    transcriptSent(f) { status.transcriptSent(f); },
    error(text) { ui.err.textContent = text; },
  });

  // --- open / close, keyboard ---
  function setOpen(open, focus) {
    isOpen = open; tabStore.set("open", open);
    ui.panel.hidden = !open;
    ui.w.classList.toggle("open", open);
    ui.launch.setAttribute("aria-expanded", String(open));
    if (open) {
      session.markRead(); session.save();
      messages.stickToBottom(true);
      if (focus) ui.input.focus({ preventScroll: true });
    } else if (focus) ui.launch.focus();
    alerts.updateBadge();
  }
  ui.launch.addEventListener("click", () => setOpen(!isOpen, true));
  ui.closeBtn.addEventListener("click", () => setOpen(false, true));
  ui.panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); setOpen(false, true); } });
  document.addEventListener("visibilitychange", () => {
    if (isOpen && document.visibilityState === "visible") { session.markRead(); session.save(); alerts.updateBadge(); }
  });
  window.addEventListener("online", () => session.online());
  window.addEventListener("offline", () => { ui.conn.textContent = T.offline; session.offline(); });

  // --- start: render what this browser already has, then connect and catch up ---
  function start() {
    composer.restoreDraft();
    messages.renderAll();
    messages.settleOptions();
    status.show();
    setOpen(isOpen, false);
    Promise.race([looked, new Promise((r) => setTimeout(r, LOOK_WAIT_MS))]).then(() => document.body.append(ui.host));
    // A preview creates no visitor until the admin types in it (or asks for a person).
    if (!config.preview) session.connect();
    else for (const [el, ev] of [[ui.input, "input"], [ui.human, "click"]]) el.addEventListener(ev, () => session.connect(), { once: true });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  window.chatdesk = {
    version: "1",
    open: () => setOpen(true, true),
    close: () => setOpen(false, false),
    toggle: () => setOpen(!isOpen, true),
    preview: config.preview ? (draft) => applyLook(ui, T, { ...config, ...draft }) : undefined,
  };
}

if (!(window.chatdesk && window.chatdesk.version)) main(); // else the tag was included twice
