// widget/shared/protocol.js: the socket's life, seq dedupe, the outbox and pending replies,
// on fake sockets and a fake clock (no browser, no server).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  Connection, DEFAULT_HEARTBEAT_S, Outbox, PendingReplies, RETRY_MAX_MS, RETRY_MIN_MS,
  SILENT_BEATS_DEAD, SeqTracker, backoffDelay,
} from "../../widget/shared/protocol.js";
import { FakeClock, fakeSockets } from "./fakes.mjs";

const HEARTBEAT_S = 25;

function setup(options = {}) {
  const clock = new FakeClock();
  const net = fakeSockets();
  const frames = [], statuses = [], closes = [];
  let helloCount = 0;
  const conn = new Connection({
    url: "ws://chat.test/ws/visitor",
    WebSocket: net.FakeWebSocket,
    timers: clock,
    random: () => 0.5, // no jitter: delays are exact
    hello: () => ({ type: "hello", n: ++helloCount }),
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    onClose: (e) => { closes.push(e); return options.reconnect ?? true; },
    silentBeats: options.silentBeats ?? null,
  });
  return { clock, net, conn, frames, statuses, closes };
}

function welcome(socket, extra = {}) {
  socket.accept();
  socket.receive({ type: "welcome", heartbeat_s: HEARTBEAT_S, ...extra });
}

describe("backoffDelay", () => {
  it("doubles from 0.5 s to a 15 s cap", () => {
    const mid = () => 0.5; // jitter factor 1.0
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 12].map((a) => backoffDelay(a, mid)),
      [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    assert.equal(RETRY_MIN_MS, 500);
    assert.equal(RETRY_MAX_MS, 15000);
  });

  it("is jittered by a factor of 0.5 to 1.5", () => {
    assert.equal(backoffDelay(0, () => 0), 250);
    assert.equal(backoffDelay(0, () => 1), 750);
    assert.equal(backoffDelay(9, () => 0), 7500);
    assert.equal(backoffDelay(9, () => 1), 22500);
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
    assert.ok(seen.size > 1, "Math.random by default: sockets do not reconnect in step");
    for (const d of seen) assert.ok(d >= 2000 && d <= 6000, d);
  });
});

describe("Connection", () => {
  it("says hello on open, built at that moment, and sends only once welcomed", () => {
    const { net, conn, frames, statuses } = setup();
    conn.connect();
    const s = net.last();
    assert.equal(s.url, "ws://chat.test/ws/visitor");
    assert.equal(conn.send({ type: "message" }), false, "not open yet");
    s.accept();
    assert.deepEqual(s.sent, [{ type: "hello", n: 1 }]);
    assert.equal(conn.send({ type: "message" }), false, "open but not welcomed");
    s.receive({ type: "welcome", heartbeat_s: HEARTBEAT_S });
    assert.equal(conn.send({ type: "message" }), true);
    assert.deepEqual(s.sent.map((f) => f.type), ["hello", "message"]);
    assert.deepEqual(frames.map((f) => f.type), ["welcome"]);
    assert.deepEqual(statuses, ["connecting", "online"]);
  });

  it("reconnects after a close with growing delays, and starts over once welcomed", () => {
    const { clock, net, conn, closes, statuses } = setup();
    conn.connect();
    net.last().serverClose(1012);
    assert.equal(closes[0].code, 1012);
    assert.deepEqual(statuses, ["connecting", "reconnecting"]);
    const delays = [];
    for (let i = 0; i < 7; i++) { // refused again and again
      delays.push(clock.timeouts()[0]);
      clock.advance(clock.timeouts()[0]);
      net.last().serverClose(1006);
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000]);
    assert.equal(net.sockets.length, 8);
    clock.advance(clock.timeouts()[0]);
    welcome(net.last());
    net.last().serverClose(1012);
    assert.deepEqual(clock.timeouts(), [500], "a welcome resets the backoff");
  });

  it("opens at most one socket however often connect() is called", () => {
    const { net, conn } = setup();
    conn.connect(); conn.connect(); conn.connect();
    assert.equal(net.sockets.length, 1);
  });

  it("retries when the socket cannot even be constructed", () => {
    const { clock, conn } = setup();
    conn.o.WebSocket = function Broken() { throw new Error("SecurityError"); };
    conn.connect();
    assert.deepEqual(clock.timeouts(), [500]);
  });

  it("pings every heartbeat_s once welcomed", () => {
    const { clock, net, conn } = setup();
    conn.connect();
    const s = net.last();
    welcome(s);
    clock.advance(HEARTBEAT_S * 1000 - 1);
    assert.equal(s.framesOf("ping").length, 0);
    clock.advance(1);
    assert.equal(s.framesOf("ping").length, 1);
    clock.advance(2 * HEARTBEAT_S * 1000);
    assert.equal(s.framesOf("ping").length, 3);
  });

  it("uses 25 s when the welcome names no heartbeat", () => {
    const { clock, net, conn } = setup();
    conn.connect();
    const s = net.last();
    s.accept();
    s.receive({ type: "welcome" });
    clock.advance(DEFAULT_HEARTBEAT_S * 1000);
    assert.equal(s.framesOf("ping").length, 1);
  });

  it("drops a socket silent for 2.4 heartbeats and reconnects", () => {
    const { clock, net, conn } = setup({ silentBeats: SILENT_BEATS_DEAD });
    conn.connect();
    const s = net.last();
    welcome(s);
    clock.advance(2 * HEARTBEAT_S * 1000);
    s.receive({ type: "pong" }); // still alive at 50 s
    clock.advance(2 * HEARTBEAT_S * 1000);
    assert.equal(net.sockets.length, 1, "heard from 50 s ago: within 60 s");
    clock.advance(HEARTBEAT_S * 1000); // 75 s after the pong: two pongs missed
    assert.equal(s.closeCalls.length, 1, "the dead socket is closed");
    assert.equal(conn.ws, null);
    clock.advance(clock.timeouts()[0]);
    assert.equal(net.sockets.length, 2, "and a new one opened");
  });

  it("never drops a quiet socket without silentBeats (the console)", () => {
    const { clock, net, conn } = setup();
    conn.connect();
    welcome(net.last());
    clock.advance(10 * HEARTBEAT_S * 1000);
    assert.equal(net.sockets.length, 1);
    assert.equal(net.last().framesOf("ping").length, 10);
  });

  it("stays closed when onClose says so, or after stop()", () => {
    let t = setup({ reconnect: false });
    t.conn.connect();
    t.net.last().serverClose(1008);
    assert.deepEqual(t.clock.timeouts(), []);

    t = setup();
    t.conn.connect();
    welcome(t.net.last());
    t.conn.stop(1000, "logout");
    assert.deepEqual(t.net.last().closeCalls, [{ code: 1000, reason: "logout" }]);
    t.clock.advance(60_000);
    assert.equal(t.net.sockets.length, 1, "no reconnect, no ping timer left behind");
    t.conn.connect();
    assert.equal(t.net.sockets.length, 2, "connect() after stop() opens again");
  });

  it("ignores what a replaced socket still delivers, and frames that are not JSON objects", () => {
    const { clock, net, conn, frames } = setup();
    conn.connect();
    const old = net.last();
    welcome(old);
    conn.drop();
    clock.advance(clock.timeouts()[0]);
    old.receive({ type: "message", seq: 1 });
    old.serverClose(1000);
    const s = net.last();
    s.accept();
    s.receive("not json");
    s.receive("42");
    assert.deepEqual(frames.map((f) => f.type), ["welcome"]);
    assert.equal(net.sockets.length, 2);
  });
});

describe("SeqTracker", () => {
  it("knows each seq once and the highest one", () => {
    const seqs = new SeqTracker([3, null, 1]);
    assert.equal(seqs.last, 3);
    assert.equal(seqs.add(2), true);
    assert.equal(seqs.add(2), false, "a seq already seen is a duplicate");
    assert.equal(seqs.add(null), false);
    assert.equal(seqs.add(1), false, "seen from the start");
    assert.equal(seqs.add(7), true);
    assert.equal(seqs.last, 7);
    seqs.reset();
    assert.equal(seqs.last, 0);
    assert.equal(seqs.add(7), true, "forgotten by reset");
  });
});

describe("Outbox", () => {
  it("keeps frames until their key is confirmed, persisting each change", () => {
    const saved = [];
    const box = new Outbox([{ k: "a", f: { type: "message", client_msg_id: "a" } }], () => saved.push(box.entries.length));
    box.add("fb7", { type: "feedback", seq: 7 });
    box.add("rate", { type: "rating", stars: 4 });
    assert.deepEqual(box.frames().map((f) => f.type), ["message", "feedback", "rating"]);
    box.confirm("fb7");
    box.confirm("unknown"); // nothing changed: nothing saved
    box.dropType("rating");
    assert.deepEqual(box.entries, [{ k: "a", f: { type: "message", client_msg_id: "a" } }]);
    assert.deepEqual(saved, [2, 3, 2, 1]);
  });

  it("starts empty from a broken stored value", () => {
    assert.deepEqual(new Outbox("garbage").entries, []);
  });
});

describe("PendingReplies", () => {
  it("settles each wait exactly once", async () => {
    const p = new PendingReplies();
    const a = p.wait("a"), b = p.wait("b"), c = p.wait("c");
    assert.equal(p.size, 3);
    assert.equal(p.resolve("a", "ok"), true);
    assert.equal(p.resolve("a", "again"), false);
    assert.equal(p.reject("b", new Error("forbidden")), true);
    p.rejectAll(new Error("closed"));
    assert.equal(p.size, 0);
    assert.equal(await a, "ok");
    await assert.rejects(b, /forbidden/);
    await assert.rejects(c, /closed/);
  });
});
