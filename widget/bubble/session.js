// The visitor's side of docs/protocol.md: the conversation this browser shows, what it still has
// to send, and every frame the bubble sends or understands. No DOM: the view is told through
// hooks, storage and the socket are parameters (tests/widget/ drives it with fakes).
import { Connection, Outbox, SeqTracker, SILENT_BEATS_DEAD, newClientMsgId } from "../shared/protocol.js";

export const MAX_TEXT_BYTES = 8192; // docs/protocol.md: longer texts are refused (`too_long`)
export const KEEP_MESSAGES = 300; // cached per conversation for an instant panel on the next page
// A draft is a preview for the agent: its start is enough, and 2048 characters stay inside the
// 16 KB frame limit even if every one is JSON-escaped to six bytes.
export const DRAFT_PREVIEW_CHARS = 2048;
const PAGE_URL_MAX = 2048; // the server's limit on `hello.page_url`
// Errors the visitor need not read: a stale token is replaced silently, and frames an older
// server does not know are dropped from the outbox.
const QUIET_ERRORS = new Set(["invalid_token", "unknown_type"]);

const bySeq = (a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity); // unsent ones last
// What this browser keeps of one visitor's chat (localStorage): forgotten when the site's
// signed-in user changes, so the next person on this browser never sees it.
const EMPTY_CHAT = { token: null, conv: null, msgs: [], pending: [], read: 0, state: { state: "bot" }, votes: {}, rated: {}, nps: {} };

/**
 * The page's address as agents see it: without ?query and #fragment (reset tokens, OAuth codes,
 * session ids live there) unless the site keeps them, never with user:password@.
 */
export function pageUrlToSend(href, keepQuery = false) {
  try {
    const u = new URL(href);
    u.username = ""; u.password = "";
    if (!keepQuery) { u.search = ""; u.hash = ""; }
    return u.href;
  } catch (e) { return ""; }
}

/** The signed-in user a site's identity claim names, or null. */
const userOf = (id) => (id && typeof id.user_id === "string" ? id.user_id : null);

/**
 * store: {get(key, fallback), set(key, value)}, shared by the site's pages (localStorage).
 * view: hooks, all optional: status(s), conversationChanged(), stateChanged(), shown(record, frame),
 *   acked(record), failed(record), typing(frame), transcriptSent(frame), error(text).
 * A record is {seq, cmid, sender, text, author, meta, at, st}; st is the visitor's own
 * message's "sending" | "sent" | "failed".
 */
export class VisitorSession {
  constructor({ store, view = {}, url, WebSocket, timers, random, locale, pageUrl = () => "", keepPageQuery = false, identity = () => null }) {
    this.store = store;
    this.view = view;
    this.locale = locale;
    this.pageUrl = pageUrl;
    this.keepPageQuery = keepPageQuery;
    this.identity = identity;
    this.forgetOtherUser();
    this.load();
    this.connection = new Connection({
      url, WebSocket, timers, random, silentBeats: SILENT_BEATS_DEAD,
      hello: () => this.hello(),
      onFrame: (f) => this.handle(f),
      onStatus: (s) => this.tell("status", s),
    });
  }

  get lastSeq() { return this.seqs.last; }

  /** This browser's chat as the store keeps it. */
  load() {
    const { store } = this;
    this.token = store.get("token", null);
    this.conversationId = store.get("conv", null);
    this.records = store.get("msgs", []);
    this.seqs = new SeqTracker(this.records.map((r) => r.seq)); // resume after what we show
    this.outbox = new Outbox(store.get("pending", []), () => this.save());
    this.readSeq = store.get("read", 0);
    this.state = store.get("state", { state: "bot" }); // the last `state` frame
    this.votes = store.get("votes", {}); // "conversation:seq" -> helpful
    this.rated = store.get("rated", {}); // conversation id -> true
    this.nps = store.get("nps", {}); // conversation id -> "ask" (the server wants it) or "done"
  }

  /**
   * Another signed-in user than the one whose chat is kept here, or nobody now: forget that
   * chat (token, messages, unsent frames), so the next person on this browser never sees it.
   * A visitor who only now signs in keeps theirs (the server makes it their user's).
   * True when something was forgotten.
   */
  forgetOtherUser() {
    const user = userOf(this.identity());
    const kept = this.store.get("user", null);
    const other = kept !== null && kept !== user;
    if (other) for (const [k, empty] of Object.entries(EMPTY_CHAT)) this.store.set(k, empty);
    if (kept !== user) this.store.set("user", user);
    return other;
  }

  save() {
    const { store } = this;
    store.set("conv", this.conversationId); store.set("read", this.readSeq); store.set("state", this.state);
    store.set("msgs", this.records.slice(-KEEP_MESSAGES)); store.set("pending", this.outbox.entries);
  }

  tell(hook, ...args) {
    const fn = this.view[hook];
    if (fn) fn(...args);
  }

  // --- the connection ---
  connect() { this.connection.connect(); }
  online() { this.connection.resetBackoff(); this.connection.connect(); }
  offline() { this.connection.drop(); }

  hello() {
    if (this.forgetOtherUser()) { this.load(); this.tell("conversationChanged"); } // a new user, same page
    const hello = {
      type: "hello", token: this.token, conversation_id: this.conversationId,
      last_seq: this.conversationId ? this.lastSeq : 0, locale: this.locale,
      page_url: pageUrlToSend(this.pageUrl(), this.keepPageQuery).slice(0, PAGE_URL_MAX),
    };
    const id = this.identity();
    if (id) hello.identity = id;
    return hello;
  }

  // --- what the visitor does ---
  send(frame) { return this.connection.send(frame); }

  /** Send a frame and keep it until the server confirms `key`, across reloads and reconnects. */
  queue(key, frame) {
    this.outbox.add(key, frame); // saves
    this.send(frame);
  }

  /** A frame that stores a visitor message; `text` (if any) is shown at once as "sending". */
  say(type, text, fields = {}) {
    const cmid = newClientMsgId();
    const frame = Object.assign({ type, client_msg_id: cmid }, fields);
    if (type === "message") frame.text = text;
    let record = null;
    if (text) {
      record = { seq: null, cmid, sender: "visitor", text, meta: {}, at: new Date().toISOString(), st: "sending" };
      this.records.push(record);
    }
    this.queue(cmid, frame);
    return record;
  }

  message(text) { return this.say("message", text); }
  /** "Talk to a person"; teamId: the topic the visitor picked (a welcome's `topics`, issue 16). */
  handoff(label, teamId) { return this.say("handoff", label, teamId != null ? { team_id: teamId } : {}); }
  choose(entryId, label) { return this.say("choice", label, { entry_id: entryId }); }
  requestTicket() { return this.say("request_ticket", null); }
  setEmail(email) { this.send({ type: "email", email }); }
  /** The e-mail the site signed for its logged-in user: where a transcript may go. */
  signedEmail() { const id = this.identity(); return id && typeof id.email === "string" ? id.email : null; }
  requestTranscript(email) { this.send({ type: "transcript", email }); }

  /** The draft reaches agents only while a person holds the chat. */
  sendDraft(text) {
    if (this.state.state === "assigned") this.send({ type: "typing", draft: text.slice(0, DRAFT_PREVIEW_CHARS) });
  }

  votedOn(seq) { return (this.conversationId + ":" + seq) in this.votes; }

  vote(seq, helpful) {
    this.votes[this.conversationId + ":" + seq] = helpful;
    this.store.set("votes", this.votes);
    this.queue("fb" + seq, { type: "feedback", seq, helpful });
  }

  hasRated() { return Boolean(this.rated[this.conversationId]); }

  rate(stars, comment) {
    const frame = { type: "rating", stars };
    if (comment) frame.comment = comment;
    this.rated[this.conversationId] = true;
    this.store.set("rated", this.rated);
    this.queue("rate", frame);
  }

  /** The second post-chat question (docs/protocol.md `nps`): "ask" once the server asked for it. */
  npsStage() { return this.nps[this.conversationId] || null; }

  answerNps(score) {
    this.nps[this.conversationId] = "done";
    this.store.set("nps", this.nps);
    if (score != null) this.queue("nps", { type: "nps", score });
    this.tell("stateChanged");
  }

  onRatingSaved(f) {
    this.outbox.confirm("rate");
    if (f.nps && !this.nps[this.conversationId]) {
      this.nps[this.conversationId] = "ask";
      this.store.set("nps", this.nps);
      this.tell("stateChanged");
    }
  }

  /** Everything shown counts as read (saved with the next save()). */
  markRead() { this.readSeq = this.lastSeq; }

  unreadCount() {
    return this.records.filter((r) => r.seq != null && r.seq > this.readSeq && r.sender !== "visitor").length;
  }

  // --- what the server says ---
  handle(f) {
    switch (f.type) {
      case "welcome": this.onWelcome(f); break;
      case "message": this.onMessage(f); break;
      case "ack": this.onAck(f); break;
      case "state":
        if (f.conversation_id === this.conversationId) { this.state = f; this.save(); this.tell("stateChanged"); }
        break;
      case "typing": if (f.sender === "agent") this.tell("typing", f); break;
      case "feedback_saved": this.outbox.confirm("fb" + f.seq); break;
      case "rating_saved": this.onRatingSaved(f); break;
      case "nps_saved": this.outbox.confirm("nps"); break;
      case "transcript_sent": this.tell("transcriptSent", f); break;
      case "error": this.onError(f); break;
    }
  }

  onWelcome(f) {
    this.token = f.token;
    this.store.set("token", this.token);
    if (f.conversation_id !== this.conversationId) { // a new conversation: keep only what is still unsent
      this.conversationId = f.conversation_id;
      this.readSeq = 0;
      this.records = this.records.filter((r) => r.seq == null);
      this.seqs.reset();
      this.tell("conversationChanged");
    }
    this.state = f.state || this.state;
    this.topics = Array.isArray(f.topics) ? f.topics : []; // the topic choice, when it is on
    this.tell("stateChanged");
    this.save();
    for (const frame of this.outbox.frames()) this.send(frame);
  }

  onMessage(f) {
    if (f.conversation_id !== this.conversationId || !this.seqs.add(f.seq)) return; // have it
    const ours = f.client_msg_id && f.sender === "visitor";
    // Our own frame coming back is its acknowledgement (docs/protocol.md): no `ack` follows.
    if (ours) this.outbox.confirm(f.client_msg_id);
    let r = ours && this.records.find((m) => m.cmid === f.client_msg_id);
    if (r) { // our own message: the same bubble, now with its seq
      Object.assign(r, { seq: f.seq, text: f.text, at: f.created_at, st: "sent" });
    } else {
      r = { seq: f.seq, cmid: f.client_msg_id, sender: f.sender, text: f.text, author: f.author, meta: f.meta || {}, at: f.created_at };
      this.records.push(r);
    }
    this.records.sort(bySeq);
    if (f.meta && f.meta.kind === "rating_request") { // sent right after `closed`: rate the chat
      this.state = Object.assign({}, this.state, { state: "closed" });
      this.tell("stateChanged");
    }
    this.tell("shown", r, f);
    this.save();
  }

  onAck(f) {
    this.outbox.confirm(f.client_msg_id);
    const r = this.records.find((m) => m.cmid === f.client_msg_id && m.sender === "visitor");
    if (!r) return;
    if (r.seq == null) { r.seq = f.seq; this.seqs.add(f.seq); }
    r.st = "sent";
    this.records.sort(bySeq);
    this.tell("acked", r);
    this.save();
  }

  onError(f) {
    const ref = f.ref;
    const r = ref && this.records.find((m) => m.cmid === ref && m.seq == null);
    if (ref) this.outbox.confirm(ref); // refused: resending the same frame cannot help
    if (r) { r.st = "failed"; this.save(); this.tell("failed", r); }
    const kind = /'(\w+)'/.exec(f.message || ""); // "unknown frame type 'rating'"
    if (f.code === "unknown_type" && kind) this.outbox.dropType(kind[1]);
    if (!QUIET_ERRORS.has(f.code)) this.tell("error", f.message || f.code);
  }
}
