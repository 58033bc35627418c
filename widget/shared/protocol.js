// The client side of docs/protocol.md, shared by the chat bubble and the agent console:
// the socket's life (hello, heartbeat, reconnect with jittered backoff), the seqs already
// shown, and frames waiting for the server to confirm them. No DOM: the socket constructor,
// the timers and the random source are parameters, so `node --test` drives all of it.

export const RETRY_MIN_MS = 500; // docs/protocol.md: 0.5 s doubling to 15 s, times 0.5-1.5
export const RETRY_MAX_MS = 15000;
export const DEFAULT_HEARTBEAT_S = 25; // what the server says in `welcome`; used if it says nothing
// A socket silent this many heartbeats (60 s at 25 s) has missed two pongs: it is dead even if
// the browser has not noticed (a laptop woke up, a proxy forgot the connection).
export const SILENT_BEATS_DEAD = 2.4;
const OPEN = 1; // WebSocket.OPEN (not a global in node)

/** The wait before reconnect number `attempt` (0 first): exponential, capped, jittered. */
export function backoffDelay(attempt, random = Math.random) {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt) * (0.5 + random());
}

/** A client_msg_id: unique per frame, 1-64 characters. */
export function newClientMsgId() {
  const c = globalThis.crypto;
  return c && c.randomUUID ? c.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
}

const SYSTEM_TIMERS = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id),
  now: () => Date.now(),
};

/**
 * One logical connection: at most one socket at a time, reopened after every close.
 *   url, WebSocket     where and with what to connect
 *   hello()            the first frame, built when each socket opens (so it carries the latest seq)
 *   onFrame(frame)     every frame from the server, `welcome` included
 *   onStatus(s)        "connecting", "online" (welcomed) or "reconnecting"
 *   onClose(event)     the current socket closed; return false to stay closed
 *   silentBeats        drop a socket this many heartbeats silent (null: rely on the browser)
 *   timers, random     injectable for tests
 * Frames are only sent on a welcomed socket; send() says whether it went out.
 */
export class Connection {
  constructor(options) {
    this.o = { onStatus() {}, onClose() {}, silentBeats: null, timers: SYSTEM_TIMERS, random: Math.random };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) this.o[k] = v; // undefined: the default
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.heard = 0;
    this.stopped = false;
  }

  connect() {
    this.o.timers.clearTimeout(this.retryTimer);
    this.stopped = false;
    if (this.ws) return;
    this.o.onStatus("connecting");
    let s;
    try { s = new this.o.WebSocket(this.o.url); } catch (e) { this.retry(); return; }
    this.ws = s;
    this.ready = false;
    s.onopen = () => { if (s === this.ws) s.send(JSON.stringify(this.o.hello())); };
    s.onmessage = (e) => {
      if (s !== this.ws) return;
      this.heard = this.o.timers.now();
      let f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (!f || typeof f !== "object") return;
      if (f.type === "welcome") this.welcomed(f);
      this.o.onFrame(f);
    };
    s.onclose = (e) => this.closed(s, e);
  }

  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** A socket we no longer trust (offline, silent): close it and reconnect with backoff. */
  drop() {
    const s = this.ws;
    if (!s) return;
    try { s.close(); } catch (e) { /* already closed */ }
    this.closed(s, { code: 1006, reason: "dropped by the client" }); // 1006: gone without a close frame
  }

  /** Close for good (log out): no reconnect until connect() is called again. */
  stop(code = 1000, reason = "") {
    this.stopped = true;
    this.o.timers.clearTimeout(this.retryTimer);
    this.o.timers.clearInterval(this.pingTimer);
    const s = this.ws;
    this.ws = null;
    this.ready = false;
    if (s) try { s.close(code, reason); } catch (e) { /* already closed */ }
  }

  /** The network is back: the next reconnect waits the shortest time again. */
  resetBackoff() { this.attempt = 0; }

  welcomed(f) {
    const { timers, silentBeats } = this.o;
    this.attempt = 0;
    this.ready = true;
    this.o.onStatus("online");
    timers.clearInterval(this.pingTimer);
    const beat = (f.heartbeat_s || DEFAULT_HEARTBEAT_S) * 1000;
    this.pingTimer = timers.setInterval(() => {
      if (silentBeats && timers.now() - this.heard > beat * silentBeats) { this.drop(); return; }
      this.send({ type: "ping" });
    }, beat);
  }

  closed(s, event) {
    if (s !== this.ws) return;
    this.ws = null;
    this.ready = false;
    this.o.timers.clearInterval(this.pingTimer);
    if (this.o.onClose(event || {}) === false || this.stopped) return;
    this.o.onStatus("reconnecting");
    this.retry();
  }

  retry() {
    const delay = backoffDelay(this.attempt, this.o.random);
    this.attempt++;
    this.retryTimer = this.o.timers.setTimeout(() => this.connect(), delay);
  }
}

/** The seqs of one conversation already shown: a frame whose seq is here is a duplicate. */
export class SeqTracker {
  constructor(seqs = []) { this.reset(seqs); }

  reset(seqs = []) {
    this.seen = new Set();
    this.last = 0; // the highest seq seen: what `hello` / `watch` resume after
    for (const seq of seqs) this.add(seq);
  }

  /** Remember a seq; false when it was already there. */
  add(seq) {
    if (seq == null || this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.last = Math.max(this.last, seq);
    return true;
  }
}

/**
 * Frames the server has not confirmed yet, as [{k, f}] (the bubble keeps them in localStorage
 * in this shape): resent after every welcome until confirmed by key. `onChange` persists.
 */
export class Outbox {
  constructor(entries = [], onChange = () => {}) {
    this.entries = Array.isArray(entries) ? entries : [];
    this.onChange = onChange;
  }

  add(key, frame) {
    this.entries.push({ k: key, f: frame });
    this.onChange();
  }

  frames() { return this.entries.map((e) => e.f); }

  /** The server confirmed `key` (its ack, its echo or its *_saved frame): stop resending it. */
  confirm(key) { this.remove((e) => e.k === key); }

  /** The server does not know this frame type (an older server): resending cannot help. */
  dropType(type) { this.remove((e) => e.f.type === type); }

  remove(match) {
    const n = this.entries.length;
    this.entries = this.entries.filter((e) => !match(e));
    if (this.entries.length !== n) this.onChange();
  }
}

/**
 * Sends a person is waiting on (the console's replies and notes), by client_msg_id: each one is
 * settled exactly once, by its ack, by an error naming it, or when its socket closes.
 */
export class PendingReplies {
  constructor() { this.waiting = new Map(); }

  get size() { return this.waiting.size; }

  wait(id) {
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  resolve(id, value) { return this.settle(id, (w) => w.resolve(value)); }

  reject(id, error) { return this.settle(id, (w) => w.reject(error)); }

  /** The socket closed: nothing will answer these any more. */
  rejectAll(error) {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(error);
  }

  settle(id, how) {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    how(w);
    return true;
  }
}
