// Where the conversation stands, above and below the log: queue position and wait, the agent,
// the ticket's promise and e-mail field, and after close the rating and the transcript forms.
import { btn, dateFormat, h } from "./dom.js";
import { avatar } from "./messages.js";
import { format } from "./texts.js";

const RATING_STARS = 5; // docs/protocol.md: `rating.stars` is 1-5
const COMMENT_MAX_CHARS = 2000; // docs/protocol.md: `rating.comment` is at most 2000 characters
const NPS_MAX = 10; // docs/protocol.md: `nps.score` is 0-10

export function createStatus({ ui, T, session, base, locale }) {
  const { stat, extra, human, input, shadow } = ui;
  const dateFmt = dateFormat(locale, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  let shown = "";
  let keptWaiting = null; // the conversation whose ticket offer the visitor turned down

  /** Redraw for session.state; a no-op when nothing changed (keeps focus and half-typed input). */
  function show() {
    const s = session.state || { state: "bot" };
    const key = JSON.stringify([s, session.hasRated(), session.npsStage(), keptWaiting]);
    if (key === shown) return;
    shown = key;
    const active = shadow.activeElement;
    const hadFocus = active && (active === human || stat.contains(active) || extra.contains(active));
    stat.replaceChildren();
    extra.replaceChildren();
    human.parentNode.hidden = !(s.state === "bot" || s.state === "closed");
    if (s.state === "queued") {
      const p = h("p");
      if (s.queue_position) p.append(format(T.queue, { n: s.queue_position }) + " ");
      const secs = s.estimated_wait_s;
      if (typeof secs === "number") p.append(secs < 60 ? T.waitSoon : format(T.wait, { m: Math.round(secs / 60) }));
      stat.append(p, btn(T.instead, "", () => { session.requestTicket(); }));
      // Issue 16: waited too long (or a long wait ahead): a ticket by e-mail, or keep waiting.
      if (s.ticket_offer && keptWaiting !== s.conversation_id) extra.append(ticketOffer(s));
    } else if (s.state === "assigned" && s.agent) {
      stat.append(avatar(s.agent, base), h("p", "", format(T.assigned, { name: s.agent.name })));
    } else if (s.state === "ticket") {
      const tk = s.ticket || {};
      let when = T.soon;
      // The server's own words for the promised time (business time zone, named), so this
      // line and the promise in the log say the same; our own formatting only without them.
      if (tk.reply_by_text) when = format(T.by, { time: tk.reply_by_text });
      else if (tk.reply_by && !isNaN(Date.parse(tk.reply_by))) when = format(T.by, { time: dateFmt.format(new Date(tk.reply_by)) });
      stat.append(h("p", "", format(T.ticket, { when })));
      extra.append(emailForm(tk.email, (email) => session.setEmail(email)));
    } else if (s.state === "closed") {
      if (!session.hasRated()) extra.append(ratingForm());
      else if (session.npsStage() === "ask") extra.append(npsForm());
      else extra.append(h("p", "", (session.npsStage() === "done" ? T.npsThanks : T.rated) + " " + T.newChat));
      const tr = h("div", "tr");
      tr.append(h("p", "", T.transcript), emailForm((s.ticket && s.ticket.email) || session.signedEmail(), (email) => session.requestTranscript(email), T.transcript));
      extra.append(tr);
    }
    // The control the visitor was on went away with the old state: keep focus in the panel.
    const now = shadow.activeElement;
    if (hadFocus && (!now || !now.isConnected || !now.offsetParent)) (extra.querySelector("input") || input).focus({ preventScroll: true });
  }

  function ticketOffer(s) {
    const box = h("div", "offer", null, { role: "group", "aria-label": T.offerTitle });
    const form = emailForm(session.signedEmail(), (email) => { session.setEmail(email); session.requestTicket(); }, T.email, T.offerSend);
    box.append(h("p", "", T.offer), form, btn(T.keepWaiting, "", () => { keptWaiting = s.conversation_id; show(); }));
    return box;
  }

  function emailForm(value, submit, label, action) {
    const f = h("form");
    const id = "cd-em" + Math.random().toString(36).slice(2, 7); // two forms may be on screen
    const inp = h("input", "", null, { type: "email", id, autocomplete: "email", required: "", placeholder: "you@example.com" });
    const err = h("p", "err", "", { "aria-live": "polite" });
    inp.value = value || "";
    f.append(h("label", "sr", label || T.email, { for: id }), inp, h("button", "pri", action || T.save, { type: "submit" }), err);
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
    for (let n = 1; n <= RATING_STARS; n++) {
      const l = h("label");
      const r = h("input", "", null, { type: "radio", name: "stars", value: String(n) });
      r.addEventListener("change", paint);
      l.append(r, h("span", "", "★", { "aria-hidden": "true" }), h("span", "sr", format(T.star, { n })));
      l.addEventListener("mouseenter", () => labels.forEach((x, i) => x.classList.toggle("on", i < n)));
      l.addEventListener("mouseleave", paint);
      labels.push(l); stars.append(l);
    }
    fs.append(legend, stars);
    const cid = "cd-rc";
    const comment = h("textarea", "", null, { id: cid, maxlength: String(COMMENT_MAX_CHARS), rows: "2" });
    const err = h("p", "err", "", { "aria-live": "polite" });
    f.append(fs, h("label", "sr", T.comment, { for: cid }), comment, h("button", "pri", T.rateSend, { type: "submit" }), err);
    comment.placeholder = T.comment;
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      const chosen = Number(f.stars.value);
      if (!chosen) { err.textContent = T.rate; f.querySelector("input").focus(); return; }
      session.rate(chosen, comment.value.trim());
      const done = h("p", "", T.rated + " " + T.newChat, { tabindex: "-1" });
      f.replaceWith(done); done.focus();
    });
    return f;
  }

  /** The optional second question, after the stars: 0-10, or "No thanks". */
  function npsForm() {
    const f = h("form", "rate nps");
    const fs = h("fieldset");
    const scale = h("div", "scale");
    for (let n = 0; n <= NPS_MAX; n++) {
      const l = h("label");
      l.append(h("input", "", null, { type: "radio", name: "score", value: String(n) }), h("span", "", String(n)));
      scale.append(l);
    }
    fs.append(h("legend", "", T.nps), scale, h("p", "hint", T.npsLow + " · " + T.npsHigh));
    const err = h("p", "err", "", { "aria-live": "polite" });
    const skip = btn(T.npsSkip, "", () => session.answerNps(null));
    f.append(fs, h("button", "pri", T.npsSend, { type: "submit" }), skip, err);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      const picked = f.querySelector("input:checked");
      if (!picked) { err.textContent = T.nps; f.querySelector("input").focus(); return; }
      session.answerNps(Number(picked.value));
    });
    return f;
  }

  /** The server mailed the transcript: the form becomes the confirmation. */
  function transcriptSent(f) {
    const tr = extra.querySelector(".tr");
    if (tr) tr.replaceChildren(h("p", "", format(T.transcriptSent, { email: f.email })));
  }

  return { show, transcriptSent };
}
