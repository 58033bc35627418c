// The message log: one bubble per record of the session, in seq order (unsent ones last), with
// "Was this helpful?" under bot answers and "Did you mean" buttons under clarifications. Bot
// answers show their links, line breaks and lists (./format.js); every other message is text.
import { btn, dateFormat, h, safeUrl } from "./dom.js";
import { renderAnswer } from "./format.js";

const PINNED_PX = 40; // this close to the bottom counts as "reading the newest": keep following

/** An agent's photo (a safe URL only), or their initials when there is none or it fails to load. */
export function avatar(author, base) {
  const name = (author && author.name) || "?";
  const src = author && author.avatar_url && safeUrl(author.avatar_url, base);
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

export function createMessageLog({ ui, T, session, base, locale }) {
  const { log, scroll } = ui;
  const timeFmt = dateFormat(locale, { hour: "2-digit", minute: "2-digit" });
  const elements = new WeakMap(); // record -> its bubble
  const stText = (st) => " · " + (st === "sending" ? T.sending : st === "failed" ? T.failed : T.sent);

  function build(r) {
    const el = h("div", "m " + r.sender);
    el._r = r; // the record behind a bubble (place() and the browser tests read it)
    if (r.sender !== "system") {
      const who = h("div", "who");
      if (r.sender === "agent") who.append(avatar(r.author, base), (r.author && r.author.name) || "");
      else who.textContent = r.sender === "visitor" ? T.you : T.bot;
      if (r.sender === "visitor") who.className = "sr";
      el.append(who);
    }
    // A bot answer may hold a list: a <div>, since a <p> cannot hold one.
    // dir=auto: each message reads in its own direction (Persian in an English bubble, a Latin
    // product name in a Persian one), whatever the panel's.
    const body = h(r.sender === "bot" ? "div" : "p", "b", null, { dir: "auto" });
    if (r.sender === "bot") renderAnswer(body, r.text, document); else body.textContent = r.text;
    el.append(body);
    if (r.sender !== "system") {
      const ft = h("div", "ft");
      ft.append(h("time", "", timeFmt.format(new Date(r.at)), { datetime: r.at }));
      if (r.sender === "visitor") { el._st = h("span", "", stText(r.st)); ft.append(el._st); }
      el.append(ft);
    }
    const kind = r.meta && r.meta.kind;
    if (r.sender === "bot" && kind === "answer" && r.seq != null) el.append(helpful(r));
    if (r.sender === "bot" && kind === "clarify" && Array.isArray(r.meta.options)) el.append(options(r));
    return el;
  }

  function helpful(r) {
    const box = h("div", "fb", null, { role: "group", "aria-label": T.helpful });
    if (session.votedOn(r.seq)) { box.textContent = T.thanks; return box; }
    const vote = (yes) => {
      session.vote(r.seq, yes);
      const done = h("span", "", T.thanks, { tabindex: "-1" });
      box.replaceChildren(done); done.focus();
    };
    box.append(h("span", "", T.helpful), btn(T.yes, "", () => vote(true)), btn(T.no, "", () => vote(false)));
    return box;
  }

  function options(r) {
    const box = h("div", "opts", null, { role: "group", "aria-label": r.text });
    const pick = (entry, label) => {
      for (const b of box.querySelectorAll("button")) b.disabled = true;
      showOwn(session.choose(entry, label));
    };
    for (const o of r.meta.options) if (o && o.question) box.append(btn(o.question, "", () => pick(o.entry_id, o.question), { dir: "auto" }));
    box.append(btn(T.none, "", () => pick(null, T.none)));
    return box;
  }

  /** Move a bubble to its seq's place (unsent ones stay at the end). */
  function place(r) {
    const el = elements.get(r);
    let before = null;
    if (r.seq != null) {
      for (const c of log.children) {
        if (c !== el && (c._r.seq == null || c._r.seq > r.seq)) { before = c; break; }
      }
    }
    if (el.parentNode !== log || el.nextSibling !== before) log.insertBefore(el, before);
  }

  function render(r) {
    const old = elements.get(r);
    const el = build(r);
    elements.set(r, el);
    if (old) old.replaceWith(el);
    place(r);
  }

  function setStatus(r) {
    const el = elements.get(r);
    if (el && el._st) el._st.textContent = stText(r.st);
  }

  /** "Did you mean" buttons only answer the newest question. */
  function settleOptions() {
    const all = [...log.querySelectorAll(".opts")];
    all.forEach((box, i) => {
      if (i < all.length - 1 || box.parentNode !== log.lastElementChild) for (const b of box.querySelectorAll("button")) b.disabled = true;
    });
  }

  // Follow new messages unless the visitor scrolled up to read older ones.
  let pinned = true;
  scroll.addEventListener("scroll", () => { pinned = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < PINNED_PX; });
  function stickToBottom(force) {
    if (force) pinned = true;
    if (pinned) scroll.scrollTop = scroll.scrollHeight;
  }
  if (window.ResizeObserver) { const ro = new ResizeObserver(() => stickToBottom(false)); ro.observe(scroll); ro.observe(log); }

  /** The visitor's own new message (from session.say): shown at once, scrolled into view. */
  function showOwn(r) {
    if (!r) return;
    render(r);
    stickToBottom(true);
  }

  /** Every record again (first paint, or a new conversation). */
  function renderAll() {
    log.replaceChildren();
    session.records.forEach(render);
  }

  return { render, renderAll, place, setStatus, settleOptions, stickToBottom, showOwn };
}
