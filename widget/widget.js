/* chatdesk chat bubble. One line on any page:
 *   <script src="https://HOST/widget.js" data-chatdesk-url="https://HOST" async></script>
 * Options (data-* on that tag, or window.chatdeskConfig = {...} set before it):
 *   color, text-color, position (right|left), greeting, locale, title, sound (on|off),
 *   identity (JSON made by the site's server: see docs/protocol.md "Embedding the widget").
 * Speaks docs/protocol.md over /ws/visitor. Plain JavaScript, no build step, no framework.
 * Message data only ever reaches the page through textContent and validated href/src. */
(() => {
  "use strict";
  if (window.chatdesk && window.chatdesk.version) return; // the tag was included twice

  const script = document.currentScript;
  const ds = (script && script.dataset) || {};
  const cfg = window.chatdeskConfig || {};
  const opt = (key, attr, fallback) => cfg[key] ?? ds[attr || key] ?? fallback;

  const RETRY_MIN_MS = 500; // docs/protocol.md: 0.5 s doubling to 15 s, times 0.5-1.5
  const RETRY_MAX_MS = 15000;
  const TYPING_SHOW_MS = 5000; // an agent's "typing" fades unless repeated
  const TYPING_SEND_MS = 1200; // at most this often we send the visitor's draft
  const KEEP_MESSAGES = 300; // cached per conversation for an instant panel on the next page
  const MAX_TEXT_BYTES = 8192;

  const base = new URL(opt("url", "chatdeskUrl", "") || (script && script.src) || "/", location.href);
  const root = (base.origin + base.pathname.replace(/widget\.js$/, "")).replace(/\/+$/, "");
  const wsUrl = root.replace(/^http/, "ws") + "/ws/visitor";
  const locale = opt("locale", "", navigator.language || "en");

  const STRINGS = {
    en: {
      title: "Chat with us", open: "Open chat", unread: "{n} unread", close: "Close chat",
      greeting: "Hi! Ask us anything. A person is always one click away.",
      placeholder: "Type your message…", label: "Your message", send: "Send",
      human: "Talk to a person", helpful: "Was this helpful?", yes: "Yes", no: "No",
      thanks: "Thanks for your feedback!", none: "None of these", you: "You", bot: "Assistant",
      sending: "Sending…", sent: "Sent", failed: "Not sent", log: "Messages",
      queue: "You are number {n} in the queue.", wait: "Estimated wait: about {m} min.",
      waitSoon: "Estimated wait: under a minute.", instead: "E-mail me instead",
      assigned: "You are chatting with {name}.", typing: "{name} is typing…",
      ticket: "A person will reply {when}. You will see it here, and by e-mail if you leave your address.",
      by: "by {time}", soon: "soon", email: "Your e-mail address", save: "Save",
      emailBad: "Please enter a valid e-mail address.",
      closed: "This chat has ended.", rate: "How was your chat?", star: "{n} of 5 stars",
      comment: "Comment (optional)", rateSend: "Send rating", rated: "Thank you for your rating!",
      transcript: "E-mail me this conversation", transcriptSent: "We sent the conversation to {email}.", offline: "Offline: messages will be sent when you are back.",
      connecting: "Connecting…", online: "Online", sound: "Sound notifications",
      tooLong: "That message is too long.", newChat: "Write a message to start a new chat.",
    },
    de: {
      title: "Chatten Sie mit uns", open: "Chat öffnen", unread: "{n} ungelesen", close: "Chat schließen",
      greeting: "Hallo! Fragen Sie uns einfach. Ein Mensch ist immer nur einen Klick entfernt.",
      placeholder: "Ihre Nachricht…", label: "Ihre Nachricht", send: "Senden",
      human: "Mit einem Menschen sprechen", helpful: "War das hilfreich?", yes: "Ja", no: "Nein",
      thanks: "Danke für Ihr Feedback!", none: "Nichts davon", you: "Sie", bot: "Assistent",
      sending: "Wird gesendet…", sent: "Gesendet", failed: "Nicht gesendet", log: "Nachrichten",
      queue: "Sie sind Nummer {n} in der Warteschlange.", wait: "Geschätzte Wartezeit: etwa {m} Min.",
      waitSoon: "Geschätzte Wartezeit: unter einer Minute.", instead: "Lieber per E-Mail",
      assigned: "Sie chatten mit {name}.", typing: "{name} schreibt…",
      ticket: "Ein Mensch antwortet {when}. Sie sehen die Antwort hier und per E-Mail, wenn Sie Ihre Adresse angeben.",
      by: "bis {time}", soon: "bald", email: "Ihre E-Mail-Adresse", save: "Speichern",
      emailBad: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
      closed: "Dieser Chat ist beendet.", rate: "Wie war der Chat?", star: "{n} von 5 Sternen",
      comment: "Kommentar (optional)", rateSend: "Bewertung senden", rated: "Danke für Ihre Bewertung!",
      transcript: "Verlauf per E-Mail senden", transcriptSent: "Wir haben den Verlauf an {email} gesendet.", offline: "Offline: Nachrichten werden gesendet, sobald Sie wieder online sind.",
      connecting: "Verbinde…", online: "Online", sound: "Tonsignale",
      tooLong: "Die Nachricht ist zu lang.", newChat: "Schreiben Sie, um einen neuen Chat zu beginnen.",
    },
  };
  const T = Object.assign({}, STRINGS.en, STRINGS[locale.slice(0, 2).toLowerCase()] || {}, cfg.strings || {});
  const t = (key, vars) => T[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));

  // --- storage: localStorage (shared by the site's pages); memory when it is unavailable ---
  const mem = {};
  const ns = "chatdesk:" + root + ":";
  function store(kind) {
    let s = null;
    try { s = window[kind]; s.setItem(ns + "?", "1"); s.removeItem(ns + "?"); } catch (e) { s = null; }
    return {
      get(k, d) {
        try { const v = s ? s.getItem(ns + k) : mem[kind + k]; return v == null ? d : JSON.parse(v); } catch (e) { return d; }
      },
      set(k, v) {
        const j = JSON.stringify(v, (key, val) => (key === "el" ? undefined : val)); // not the DOM node
        try { if (s) s.setItem(ns + k, j); else mem[kind + k] = j; } catch (e) { mem[kind + k] = j; }
      },
    };
  }
  const L = store("localStorage");
  const SS = store("sessionStorage");

  let token = L.get("token", null);
  let convId = L.get("conv", null);
  let msgs = L.get("msgs", []); // {seq, cmid, sender, text, author, meta, at, st}
  let pending = L.get("pending", []); // [{k, f}] frames to (re)send until the server confirms
  let lastSeq = msgs.reduce((top, m) => Math.max(top, m.seq || 0), 0); // resume after what we show
  let readSeq = L.get("read", 0);
  let votes = L.get("votes", {}); // "conversation:seq" -> helpful
  let rated = L.get("rated", {}); // conversation id -> true
  let view = L.get("state", { state: "bot" });
  let soundOn = L.get("sound", opt("sound", "", "off") === "on");
  let isOpen = SS.get("open", false);

  function save() {
    L.set("conv", convId); L.set("read", readSeq); L.set("state", view);
    L.set("msgs", msgs.slice(-KEEP_MESSAGES)); L.set("pending", pending);
  }

  // --- DOM helpers: text only, never HTML from data ---
  function h(tag, cls, text, attrs) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text != null) el.textContent = text;
    for (const k in attrs || {}) el.setAttribute(k, attrs[k]);
    return el;
  }
  function btn(text, cls, onclick, attrs) {
    const b = h("button", cls, text, Object.assign({ type: "button" }, attrs));
    b.addEventListener("click", onclick);
    return b;
  }
  const safeUrl = (u) => {
    try { const p = new URL(u, root + "/"); return /^https?:$/.test(p.protocol) ? p.href : null; } catch (e) { return null; }
  };
  function linkify(el, text) {
    const re = /\bhttps?:\/\/[^\s<>"'`]+/g;
    let at = 0, m;
    while ((m = re.exec(text))) {
      const url = m[0].replace(/[.,;:!?)\]}]+$/, "");
      const href = safeUrl(url);
      if (!href) continue;
      el.append(text.slice(at, m.index));
      el.append(h("a", "", url, { href, target: "_blank", rel: "noopener noreferrer" }));
      at = m.index + url.length;
      re.lastIndex = at;
    }
    el.append(text.slice(at));
  }
  const fmt = (opts) => { try { return new Intl.DateTimeFormat(locale, opts); } catch (e) { return new Intl.DateTimeFormat(undefined, opts); } };
  const timeFmt = fmt({ hour: "2-digit", minute: "2-digit" });
  const dateFmt = fmt({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));

  // --- colours and position, validated before they reach CSS ---
  const cssColor = (c, d) => (typeof c === "string" && !/[;{}<>\\]/.test(c) && CSS.supports("color", c) ? c : d);
  const primary = cssColor(opt("color", "", null), "#2456d3");
  function readable(c) { // black or white text, whichever contrasts more with a #rrggbb colour
    const m = /^#([0-9a-f]{6})$/i.exec(c);
    if (!m) return "#fff";
    const lin = [0, 2, 4].map((i) => { const v = parseInt(m[1].slice(i, i + 2), 16) / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    return (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) ? "#fff" : "#111";
  }
  const onPrimary = cssColor(opt("textColor", "textColor", null), readable(primary));
  const side = opt("position", "", "right") === "left" ? "left" : "right";

  const CSS_TEXT = `
:host{all:initial!important;display:block!important;position:static!important;--p:${primary}!important;--op:${onPrimary}!important}
*{box-sizing:border-box}
.w{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;letter-spacing:normal;text-align:left}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button,input,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer;border-radius:8px;border:1px solid var(--p);background:#fff;color:#1d2330;padding:6px 12px;min-height:36px}
button.pri{background:var(--p);color:var(--op)}
button:disabled{cursor:default;opacity:.6}
:focus-visible{outline:3px solid #1d2330;outline-offset:2px}
.launch{position:fixed;${side}:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:2px solid #fff;background:var(--p);color:var(--op);box-shadow:0 4px 16px rgba(0,0,0,.3);padding:0;display:flex;align-items:center;justify-content:center;z-index:2147483000}
.launch svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;${side === "right" ? "left" : "right"}:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b3261e;color:#fff;font-size:13px;font-weight:700;line-height:22px;text-align:center}
.panel{position:fixed;${side}:20px;bottom:92px;width:380px;height:620px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 8px 40px rgba(0,0,0,.28);overflow:hidden;z-index:2147483001}
.panel[hidden]{display:none}
header{background:var(--p);color:var(--op);padding:10px 10px 10px 16px;display:flex;align-items:center;gap:6px}
header .t{flex:1;min-width:0}
h2{font-size:17px;margin:0;font-weight:700}
.conn{font-size:13px;margin:0}
header button{background:transparent;color:var(--op);border:1px solid transparent;font-size:20px;line-height:1;width:40px;height:40px;padding:0}
header button[aria-pressed=false]{opacity:.8}
header :focus-visible{outline-color:var(--op)}
.stat{padding:10px 16px;background:#f4f6fa;border-bottom:1px solid #dde1e8;font-size:14px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.stat:empty{display:none}
.stat p{margin:0;flex:1 1 200px}
.scroll{flex:1;overflow-y:auto;padding:12px 14px;overscroll-behavior:contain}
.m{margin:8px 0;display:flex;flex-direction:column;align-items:flex-start;max-width:100%}
.m .b{max-width:85%;padding:8px 12px;border-radius:14px;background:#eef0f4;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;margin:0}
.m.visitor{align-items:flex-end}
.m.visitor .b{background:var(--p);color:var(--op);border-bottom-right-radius:4px}
.m.bot .b,.m.agent .b{border-bottom-left-radius:4px}
.m.system{align-items:center;text-align:center}
.m.system .b{background:none;color:#4a5261;font-size:14px;padding:2px 8px;max-width:100%}
.b a{color:#1a45b0;text-decoration:underline}
.who{display:flex;align-items:center;gap:6px;font-size:13px;font-weight:600;color:#4a5261;margin:0 0 2px}
.av{width:24px;height:24px;border-radius:50%;object-fit:cover;background:#4a5261;color:#fff;font-size:11px;display:inline-flex;align-items:center;justify-content:center;flex:none}
.ft{font-size:12px;color:#4a5261;margin-top:2px}
.opts,.fb{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;align-items:center;font-size:14px}
.opts button{text-align:left}
.greet .b{background:#eef0f4}
.typing{min-height:20px;padding:0 16px;font-size:13px;color:#4a5261}
.extra:empty{display:none}
.extra{padding:10px 14px;border-top:1px solid #dde1e8}
.extra form{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.extra p{margin:0 0 6px;flex-basis:100%}
.err{color:#b3261e;font-size:13px;margin:4px 0 0;flex-basis:100%}
.err:empty{display:none}
input,textarea{font-size:16px;border:1px solid #767d8c;border-radius:8px;padding:8px 10px;background:#fff;color:#1d2330}
input{flex:1 1 160px;min-width:0}
fieldset{border:0;padding:0;margin:0 0 6px;flex-basis:100%}
legend{padding:0;margin-bottom:4px;font-weight:600}
.stars{display:flex;gap:2px}
.stars label{font-size:28px;line-height:1;color:#767d8c;cursor:pointer;padding:2px}
.stars input{position:absolute;opacity:0;width:1px;height:1px}
.stars label.on{color:#a15c00}
.stars input:focus-visible+span{outline:3px solid #1d2330;outline-offset:2px}
.rate textarea{flex-basis:100%;min-height:44px}
.comp{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #dde1e8;align-items:flex-end}
.comp textarea{flex:1;resize:none;height:42px;max-height:120px;line-height:1.4}
.acts{display:flex;justify-content:center;padding:0 12px 10px}
.acts button{border:0;background:none;color:#1a45b0;text-decoration:underline;min-height:32px}
.acts[hidden],[hidden]{display:none!important}
@media (max-width:479px){
 .panel{left:0;right:0;top:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}
 .w.open .launch{display:none}
}
@media (prefers-reduced-motion:no-preference){.panel{animation:up .18s ease-out}@keyframes up{from{opacity:0;transform:translateY(12px)}}}
`;

  const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

  // --- the shadow root: the host page's CSS cannot reach in, ours cannot leak out ---
  const host = document.createElement("chatdesk-widget");
  const shadow = host.attachShadow({ mode: "open" });
  const style = h("style", "", CSS_TEXT);
  const w = h("div", "w");
  // Static markup only; everything that carries data is built with textContent below.
  w.innerHTML = `
<button class="launch" type="button" aria-controls="cd-panel">${ICON}<span class="badge" hidden></span></button>
<section class="panel" id="cd-panel" role="dialog" hidden>
 <header><div class="t"><h2 id="cd-title"></h2><p class="conn"></p></div>
  <button class="snd" type="button" aria-pressed="false">♪</button>
  <button class="x" type="button">×</button></header>
 <div class="stat" role="status"></div>
 <div class="scroll" role="log" tabindex="0"><div class="m bot greet"><p class="b"></p></div><div class="log"></div></div>
 <div class="typing" aria-live="polite"></div>
 <div class="extra"></div>
 <form class="comp"><label class="sr" for="cd-text"></label><textarea id="cd-text" rows="1" enterkeyhint="send"></textarea><button class="pri" type="submit"></button></form>
 <p class="err" role="alert"></p>
 <div class="acts"><button class="hum" type="button"></button></div>
</section>`;
  shadow.append(style, w);
  const $ = (sel) => w.querySelector(sel);
  const launch = $(".launch"), badge = $(".badge"), panel = $(".panel"), conn = $(".conn");
  const stat = $(".stat"), scroll = $(".scroll"), logEl = $(".log"), typingEl = $(".typing");
  const extra = $(".extra"), form = $(".comp"), input = $("#cd-text"), errEl = $(".err");
  const humBtn = $(".hum"), sndBtn = $(".snd"), xBtn = $(".x");
  $("#cd-title").textContent = opt("title", "", T.title);
  panel.setAttribute("aria-labelledby", "cd-title");
  $(".greet .b").textContent = opt("greeting", "", T.greeting);
  $("label.sr").textContent = T.label;
  input.placeholder = T.placeholder;
  form.querySelector("button").textContent = T.send;
  humBtn.textContent = T.human;
  sndBtn.setAttribute("aria-label", T.sound);
  xBtn.setAttribute("aria-label", T.close);
  scroll.setAttribute("aria-label", T.log);

  // --- messages ---
  function avatar(author) {
    const name = (author && author.name) || "?";
    const src = author && author.avatar_url && safeUrl(author.avatar_url);
    if (src) {
      const img = h("img", "av", null, { src, alt: "", referrerpolicy: "no-referrer" });
      img.addEventListener("error", () => img.replaceWith(initials(name)));
      return img;
    }
    return initials(name);
  }
  function initials(name) {
    return h("span", "av", name.split(/\s+/).map((p) => p[0] || "").join("").slice(0, 2).toUpperCase(), { "aria-hidden": "true" });
  }
  const stText = (st) => (st === "sending" ? T.sending : st === "failed" ? T.failed : T.sent);

  function build(r) {
    const el = h("div", "m " + r.sender);
    el._r = r;
    if (r.sender !== "system") {
      const who = h("div", "who");
      if (r.sender === "agent") who.append(avatar(r.author), (r.author && r.author.name) || "");
      else who.textContent = r.sender === "visitor" ? T.you : T.bot;
      if (r.sender === "visitor") who.className = "sr";
      el.append(who);
    }
    const body = h("p", "b");
    if (r.sender === "bot") linkify(body, r.text); else body.textContent = r.text;
    el.append(body);
    if (r.sender !== "system") {
      const ft = h("div", "ft");
      const tm = h("time", "", timeFmt.format(new Date(r.at)), { datetime: r.at });
      ft.append(tm);
      if (r.sender === "visitor") { el._st = h("span", "", " · " + stText(r.st)); ft.append(el._st); }
      el.append(ft);
    }
    const kind = r.meta && r.meta.kind;
    if (r.sender === "bot" && kind === "answer" && r.seq != null) el.append(helpful(r));
    if (r.sender === "bot" && kind === "clarify" && Array.isArray(r.meta.options)) el.append(options(r));
    return el;
  }
  function helpful(r) {
    const box = h("div", "fb", null, { role: "group", "aria-label": T.helpful });
    const key = convId + ":" + r.seq;
    if (key in votes) { box.textContent = T.thanks; return box; }
    const vote = (yes) => {
      votes[key] = yes; L.set("votes", votes);
      queue("fb" + r.seq, { type: "feedback", seq: r.seq, helpful: yes });
      const done = h("span", "", T.thanks, { tabindex: "-1" });
      box.replaceChildren(done); done.focus();
    };
    box.append(h("span", "", T.helpful), btn(T.yes, "", () => vote(true)), btn(T.no, "", () => vote(false)));
    return box;
  }
  function options(r) {
    const box = h("div", "opts", null, { role: "group", "aria-label": r.text });
    const pick = (entry, label) => { for (const b of box.querySelectorAll("button")) b.disabled = true; sendMessage("choice", label, { entry_id: entry }); };
    for (const o of r.meta.options) if (o && o.question) box.append(btn(o.question, "", () => pick(o.entry_id, o.question)));
    box.append(btn(T.none, "", () => pick(null, T.none)));
    return box;
  }
  function place(r) {
    let before = null;
    if (r.seq != null) {
      for (const c of logEl.children) {
        if (c !== r.el && (c._r.seq == null || c._r.seq > r.seq)) { before = c; break; }
      }
    }
    if (r.el.parentNode !== logEl || r.el.nextSibling !== before) logEl.insertBefore(r.el, before);
  }
  function render(r) {
    const old = r.el;
    r.el = build(r);
    if (old) old.replaceWith(r.el);
    place(r);
  }
  function settleOptions() { // "Did you mean" buttons only answer the newest question
    const all = [...logEl.querySelectorAll(".opts")];
    all.forEach((box, i) => { if (i < all.length - 1 || box.parentNode !== logEl.lastElementChild) for (const b of box.querySelectorAll("button")) b.disabled = true; });
  }
  // Follow new messages unless the visitor scrolled up to read older ones.
  let pinned = true;
  scroll.addEventListener("scroll", () => { pinned = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40; });
  function stickToBottom(force) {
    if (force) pinned = true;
    if (pinned) scroll.scrollTop = scroll.scrollHeight;
  }
  if (window.ResizeObserver) { const ro = new ResizeObserver(() => stickToBottom(false)); ro.observe(scroll); ro.observe(logEl); }

  function onMessage(f, live) {
    if (f.conversation_id !== convId || msgs.some((m) => m.seq === f.seq)) return; // have it
    lastSeq = Math.max(lastSeq, f.seq);
    let r = f.client_msg_id && f.sender === "visitor" && msgs.find((m) => m.cmid === f.client_msg_id);
    if (r) { // our own message coming back: the same bubble, now with its seq
      Object.assign(r, { seq: f.seq, text: f.text, at: f.created_at, st: "sent" });
      dropPending(f.client_msg_id);
    } else {
      r = { seq: f.seq, cmid: f.client_msg_id, sender: f.sender, text: f.text, author: f.author, meta: f.meta || {}, at: f.created_at };
      msgs.push(r);
    }
    msgs.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
    render(r);
    settleOptions();
    if (f.sender === "agent") showTyping(null);
    if (f.meta && f.meta.kind === "rating_request") { view = Object.assign({}, view, { state: "closed" }); showState(); }
    if (isOpen && document.visibilityState !== "hidden") readSeq = lastSeq;
    else if (live && f.sender !== "visitor") beep();
    updateBadge();
    stickToBottom(f.sender === "visitor");
    save();
  }
  function onAck(f) {
    dropPending(f.client_msg_id);
    const r = msgs.find((m) => m.cmid === f.client_msg_id && m.sender === "visitor");
    if (!r) return;
    if (r.seq == null) { r.seq = f.seq; lastSeq = Math.max(lastSeq, f.seq); }
    r.st = "sent";
    if (r.el && r.el._st) r.el._st.textContent = " · " + T.sent;
    msgs.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
    place(r);
    save();
  }
  function updateBadge() {
    const n = isOpen ? 0 : msgs.filter((m) => m.seq != null && m.seq > readSeq && m.sender !== "visitor").length;
    badge.hidden = n === 0;
    badge.textContent = n > 9 ? "9+" : String(n);
    launch.setAttribute("aria-label", n ? T.open + ", " + t("unread", { n }) : T.open);
  }
  let audio = null;
  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 660; g.gain.value = 0.06;
      o.connect(g); g.connect(audio.destination); o.start(); o.stop(audio.currentTime + 0.15);
    } catch (e) { /* no sound is fine */ }
  }

  // --- conversation state: queue, agent, ticket, closed ---
  let shown = "";
  function showState() {
    const s = view || { state: "bot" };
    const key = JSON.stringify([s, rated[convId]]);
    if (key === shown) return; // keep focus and half-typed input when nothing changed
    shown = key;
    const active = shadow.activeElement;
    const hadFocus = active && (active === humBtn || stat.contains(active) || extra.contains(active));
    stat.replaceChildren();
    extra.replaceChildren();
    humBtn.parentNode.hidden = !(s.state === "bot" || s.state === "closed");
    if (s.state === "queued") {
      const p = h("p");
      if (s.queue_position) p.append(t("queue", { n: s.queue_position }) + " ");
      const secs = s.estimated_wait_s;
      if (typeof secs === "number") p.append(secs < 60 ? T.waitSoon : t("wait", { m: Math.round(secs / 60) }));
      stat.append(p, btn(T.instead, "", () => { sendMessage("request_ticket", null, {}); }));
    } else if (s.state === "assigned" && s.agent) {
      stat.append(avatar(s.agent), h("p", "", t("assigned", { name: s.agent.name })));
    } else if (s.state === "ticket") {
      const tk = s.ticket || {};
      let when = tk.reply_within || T.soon;
      if (tk.reply_by && !isNaN(Date.parse(tk.reply_by))) when = t("by", { time: dateFmt.format(new Date(tk.reply_by)) });
      stat.append(h("p", "", t("ticket", { when })));
      extra.append(emailForm(tk.email, (email) => send({ type: "email", email })));
    } else if (s.state === "closed") {
      extra.append(rated[convId] ? h("p", "", T.rated + " " + T.newChat) : ratingForm());
      const tr = h("div", "tr");
      tr.append(h("p", "", T.transcript), emailForm(view.ticket && view.ticket.email, (email) => send({ type: "transcript", email }), T.transcript));
      extra.append(tr);
    }
    // The control the visitor was on went away with the old state: keep focus in the panel.
    const now = shadow.activeElement;
    if (hadFocus && (!now || !now.isConnected || !now.offsetParent)) (extra.querySelector("input") || input).focus({ preventScroll: true });
  }
  function emailForm(value, submit, label) {
    const f = h("form");
    const id = "cd-em" + Math.random().toString(36).slice(2, 7);
    const inp = h("input", "", null, { type: "email", id, autocomplete: "email", required: "", placeholder: "you@example.com" });
    const err = h("p", "err", "", { "aria-live": "polite" });
    inp.value = value || "";
    f.append(h("label", "sr", label || T.email, { for: id }), inp, h("button", "pri", T.save, { type: "submit" }), err);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!inp.checkValidity() || !inp.value.trim()) { err.textContent = T.emailBad; inp.focus(); return; }
      err.textContent = "";
      submit(inp.value.trim());
    });
    return f;
  }
  function ratingForm() {
    const f = h("form", "rate");
    const fs = h("fieldset");
    const legend = h("legend", "", T.closed + " " + T.rate);
    const stars = h("div", "stars");
    const labels = [];
    const paint = () => labels.forEach((l, i) => l.classList.toggle("on", i < (Number(f.stars && f.stars.value) || 0)));
    for (let n = 1; n <= 5; n++) {
      const l = h("label");
      const r = h("input", "", null, { type: "radio", name: "stars", value: String(n) });
      r.addEventListener("change", paint);
      const shown = h("span", "", "★", { "aria-hidden": "true" });
      l.append(r, shown, h("span", "sr", t("star", { n })));
      l.addEventListener("mouseenter", () => labels.forEach((x, i) => x.classList.toggle("on", i < n)));
      l.addEventListener("mouseleave", paint);
      labels.push(l); stars.append(l);
    }
    fs.append(legend, stars);
    const cid = "cd-rc";
    const comment = h("textarea", "", null, { id: cid, maxlength: "2000", rows: "2" });
    const err = h("p", "err", "", { "aria-live": "polite" });
    f.append(fs, h("label", "sr", T.comment, { for: cid }), comment, h("button", "pri", T.rateSend, { type: "submit" }), err);
    comment.placeholder = T.comment;
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      const stars = Number(f.stars.value);
      if (!stars) { err.textContent = T.rate; f.querySelector("input").focus(); return; }
      const frame = { type: "rating", stars };
      if (comment.value.trim()) frame.comment = comment.value.trim();
      rated[convId] = true; L.set("rated", rated);
      queue("rate", frame);
      const done = h("p", "", T.rated + " " + T.newChat, { tabindex: "-1" });
      f.replaceWith(done); done.focus();
    });
    return f;
  }

  // --- typing ---
  let typingTimer = 0, draftAt = 0, draftTimer = 0;
  function showTyping(f) {
    clearTimeout(typingTimer);
    typingEl.textContent = f ? t("typing", { name: f.name || T.title }) : "";
    if (f) typingTimer = setTimeout(() => showTyping(null), TYPING_SHOW_MS);
  }
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
    SS.set("draft", input.value);
    // The draft is a preview for a person: only sent while one holds the chat, at most every
    // TYPING_SEND_MS, and always once more after the last keystroke so the agent sees it all.
    if (view.state !== "assigned" || draftTimer) return;
    const wait = Math.max(0, draftAt + TYPING_SEND_MS - Date.now());
    draftTimer = setTimeout(() => {
      draftTimer = 0; draftAt = Date.now();
      if (view.state === "assigned") send({ type: "typing", draft: input.value.slice(0, MAX_TEXT_BYTES / 4) });
    }, wait);
  });

  // --- sending: every frame the server confirms stays pending until it does ---
  function queue(k, frame) {
    pending.push({ k, f: frame });
    save();
    send(frame);
  }
  function dropPending(k) {
    const n = pending.length;
    pending = pending.filter((p) => p.k !== k);
    if (pending.length !== n) save();
  }
  function sendMessage(type, text, fields) {
    const cmid = uuid();
    const frame = Object.assign({ type, client_msg_id: cmid }, fields);
    if (type === "message") frame.text = text;
    if (text) {
      const r = { seq: null, cmid, sender: "visitor", text, meta: {}, at: new Date().toISOString(), st: "sending" };
      msgs.push(r);
      render(r);
      stickToBottom(true);
    }
    queue(cmid, frame);
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) { errEl.textContent = T.tooLong; return; }
    errEl.textContent = "";
    input.value = ""; input.style.height = ""; SS.set("draft", "");
    sendMessage("message", text, {});
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  humBtn.addEventListener("click", () => sendMessage("handoff", T.human, {}));

  // --- the connection: hello with the last seq, resend what is unconfirmed, back off ---
  let ws = null, ready = false, attempt = 0, retryTimer = 0, pingTimer = 0, heard = 0;
  function send(frame) {
    if (ready && ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
  }
  function setConn(text) { conn.textContent = text; }
  function connect() {
    clearTimeout(retryTimer);
    if (ws) return;
    setConn(navigator.onLine === false ? T.offline : T.connecting);
    let s;
    try { s = new WebSocket(wsUrl); } catch (e) { return retry(); }
    ws = s; ready = false;
    s.onopen = () => {
      const hello = { type: "hello", token, conversation_id: convId, last_seq: convId ? lastSeq : 0, locale, page_url: location.href.slice(0, 2048) };
      const id = identity();
      if (id) hello.identity = id;
      s.send(JSON.stringify(hello));
    };
    s.onmessage = (e) => {
      if (s !== ws) return;
      heard = Date.now();
      let f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      handle(f);
    };
    s.onclose = () => {
      if (s !== ws) return;
      ws = null; ready = false;
      clearInterval(pingTimer);
      setConn(navigator.onLine === false ? T.offline : T.connecting);
      retry();
    };
  }
  function retry() {
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt) * (0.5 + Math.random());
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }
  function drop() { // a socket we no longer trust: close it and let onclose reconnect
    if (ws) { const s = ws; try { s.close(); } catch (e) { /* already closed */ } s.onclose(); }
  }
  function handle(f) {
    switch (f.type) {
      case "welcome": {
        attempt = 0;
        token = f.token; L.set("token", token);
        if (f.conversation_id !== convId) { // a new conversation: keep only what is still unsent
          convId = f.conversation_id; lastSeq = 0; readSeq = 0;
          msgs = msgs.filter((m) => m.seq == null);
          logEl.replaceChildren(); msgs.forEach(render);
          showTyping(null);
        }
        view = f.state || view;
        ready = true;
        setConn(T.online);
        showState();
        save();
        for (const p of pending) send(p.f);
        clearInterval(pingTimer);
        const beat = (f.heartbeat_s || 25) * 1000;
        pingTimer = setInterval(() => {
          if (Date.now() - heard > beat * 2.4) return drop(); // two pongs missed: dead socket
          send({ type: "ping" });
        }, beat);
        break;
      }
      case "message": onMessage(f, true); break;
      case "ack": onAck(f); break;
      case "state":
        if (f.conversation_id === convId) { view = f; save(); showState(); }
        break;
      case "typing": if (f.sender === "agent") showTyping(f); break;
      case "feedback_saved": dropPending("fb" + f.seq); break;
      case "rating_saved": dropPending("rate"); break;
      case "transcript_sent": {
        const tr = extra.querySelector(".tr");
        if (tr) tr.replaceChildren(h("p", "", t("transcriptSent", { email: f.email })));
        break;
      }
      case "error": {
        const ref = f.ref;
        const r = ref && msgs.find((m) => m.cmid === ref && m.seq == null);
        if (ref) dropPending(ref);
        if (r) { r.st = "failed"; if (r.el && r.el._st) r.el._st.textContent = " · " + T.failed; save(); }
        const kind = /'(\w+)'/.exec(f.message || "");
        if (f.code === "unknown_type" && kind) pending = pending.filter((p) => p.f.type !== kind[1]); // an older server
        if (f.code !== "invalid_token" && f.code !== "unknown_type") errEl.textContent = f.message || f.code;
        break;
      }
    }
  }
  function identity() {
    let id = opt("identity", "identity", null);
    if (typeof id === "string") { try { id = JSON.parse(id); } catch (e) { id = null; } }
    return id && typeof id === "object" ? id : null;
  }
  window.addEventListener("online", () => { attempt = 0; if (!ws) connect(); });
  window.addEventListener("offline", () => { setConn(T.offline); drop(); });

  // --- open / close, keyboard ---
  function setOpen(open, focus) {
    isOpen = open; SS.set("open", open);
    panel.hidden = !open;
    w.classList.toggle("open", open);
    launch.setAttribute("aria-expanded", String(open));
    if (open) {
      readSeq = lastSeq; save();
      stickToBottom(true);
      if (focus) input.focus({ preventScroll: true });
    } else if (focus) launch.focus();
    updateBadge();
  }
  launch.addEventListener("click", () => setOpen(!isOpen, true));
  xBtn.addEventListener("click", () => setOpen(false, true));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); setOpen(false, true); } });
  sndBtn.addEventListener("click", () => {
    soundOn = !soundOn; L.set("sound", soundOn);
    sndBtn.setAttribute("aria-pressed", String(soundOn));
    if (soundOn) beep();
  });
  sndBtn.setAttribute("aria-pressed", String(soundOn));
  document.addEventListener("visibilitychange", () => { if (isOpen && document.visibilityState === "visible") { readSeq = lastSeq; save(); updateBadge(); } });

  // --- start: render what this browser already has, then connect and catch up ---
  function start() {
    input.value = SS.get("draft", "");
    msgs.forEach(render);
    settleOptions();
    showState();
    setOpen(isOpen, false);
    document.body.append(host);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  window.chatdesk = {
    version: "1",
    open: () => setOpen(true, true),
    close: () => setOpen(false, false),
    toggle: () => setOpen(!isOpen, true),
  };
})();
