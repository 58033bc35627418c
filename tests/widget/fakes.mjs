// Test doubles for the browser's parts the protocol modules take as parameters: a clock that
// only moves when told, a WebSocket whose "server" side the test plays, and a storage.

/** setTimeout/setInterval/now on a clock that moves only by advance(ms). */
export class FakeClock {
  constructor() {
    this.t = 1_000_000;
    this.tasks = new Map();
    this.nextId = 1;
  }

  now() { return this.t; }

  setTimeout(fn, ms) { return this.add(fn, ms, null); }

  setInterval(fn, ms) { return this.add(fn, ms, ms); }

  clearTimeout(id) { this.tasks.delete(id); }

  clearInterval(id) { this.tasks.delete(id); }

  add(fn, ms, every) {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.t + Math.max(0, ms || 0), fn, every });
    return id;
  }

  /** Run everything due within the next `ms`, in time order. */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let next = null;
      for (const [id, task] of this.tasks) if (task.at <= end && (!next || task.at < next[1].at)) next = [id, task];
      if (!next) break;
      const [id, task] = next;
      this.t = task.at;
      if (task.every) task.at += task.every; else this.tasks.delete(id);
      task.fn();
    }
    this.t = end;
  }

  /** The delays of the one-shot timers waiting now (reconnects), shortest first. */
  timeouts() {
    return [...this.tasks.values()].filter((t) => !t.every).map((t) => t.at - this.t).sort((a, b) => a - b);
  }
}

/** A WebSocket class whose instances the test opens, feeds and closes from the server side. */
export function fakeSockets() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0; // CONNECTING
      this.sent = [];
      this.closeCalls = [];
      sockets.push(this);
    }

    send(data) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      this.sent.push(JSON.parse(data));
    }

    close(code, reason) { // as in browsers: the close event comes later
      this.closeCalls.push({ code, reason });
      if (this.readyState === 3) return;
      this.readyState = 3;
      queueMicrotask(() => this.onclose && this.onclose({ code: code ?? 1005, reason: reason ?? "" }));
    }

    // --- the server's side ---
    accept() { this.readyState = 1; this.onopen && this.onopen({}); }

    receive(frame) { this.onmessage && this.onmessage({ data: typeof frame === "string" ? frame : JSON.stringify(frame) }); }

    serverClose(code = 1012, reason = "") {
      this.readyState = 3;
      this.onclose && this.onclose({ code, reason });
    }

    framesOf(type) { return this.sent.filter((f) => f.type === type); }
  }
  return { FakeWebSocket, sockets, last: () => sockets[sockets.length - 1] };
}

/** localStorage's shape for VisitorSession: values go through JSON as they would there. */
export function memoryStore(initial = {}) {
  const data = {};
  for (const [k, v] of Object.entries(initial)) data[k] = JSON.stringify(v);
  return {
    data,
    get(k, fallback) { return k in data ? JSON.parse(data[k]) : fallback; },
    set(k, v) { data[k] = JSON.stringify(v); },
  };
}
