// widget/console/agent_socket.js: the console's socket. A reply or note the agent sent is
// settled by its ack or its error, and is rejected when the socket closes (it used to wait
// forever, leaving the composer silent).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AgentSocket, CONNECTION_LOST, NOT_CONNECTED } from "../../widget/console/agent_socket.js";
import { FakeClock, fakeSockets } from "./fakes.mjs";

function agent() {
  const clock = new FakeClock();
  const net = fakeSockets();
  const seen = { frames: [], status: [], refused: 0 };
  const socket = new AgentSocket({
    url: "ws://chat.test/ws/agent", token: () => "agent-token", WebSocket: net.FakeWebSocket,
    timers: clock, random: () => 0.5,
    onFrame: (f) => seen.frames.push(f), onStatus: (s) => seen.status.push(s), onRefused: () => seen.refused++,
  });
  return { socket, net, clock, seen };
}

function welcomed(t) {
  t.socket.connect();
  const s = t.net.last();
  s.accept();
  s.receive({ type: "welcome", agent_id: 3, heartbeat_s: 25 });
  return s;
}

const reply = (id, text = "Hi, Bob here.") => ({ type: "message", conversation_id: 9, client_msg_id: id, text });

describe("AgentSocket", () => {
  it("says hello with the login token", () => {
    const t = agent();
    const s = welcomed(t);
    assert.deepEqual(s.sent[0], { type: "hello", token: "agent-token" });
    assert.deepEqual(t.seen.status, ["connecting", "online"]);
    assert.deepEqual(t.seen.frames.map((f) => f.type), ["welcome"]);
  });

  it("resolves a reply on its ack", async () => {
    const t = agent();
    const s = welcomed(t);
    const sent = t.socket.request(reply("m1"));
    assert.deepEqual(s.framesOf("message"), [reply("m1")]);
    s.receive({ type: "ack", conversation_id: 9, client_msg_id: "m1", seq: 12, duplicate: false });
    assert.equal((await sent).seq, 12);
    assert.equal(t.socket.replies.size, 0);
    assert.deepEqual(t.seen.frames.map((f) => f.type), ["welcome"], "acks are the socket's business");
  });

  it("resolves a reply on its own message coming back, which the console still shows", async () => {
    const t = agent();
    const s = welcomed(t);
    const sent = t.socket.request(reply("m4"));
    const back = { type: "message", conversation_id: 9, seq: 13, sender: "agent", client_msg_id: "m4", text: "Hi, Bob here." };
    s.receive(back);
    assert.equal((await sent).seq, 13);
    assert.equal(t.socket.replies.size, 0);
    assert.deepEqual(t.seen.frames, [{ type: "welcome", agent_id: 3, heartbeat_s: 25 }, back]);
  });

  it("rejects a reply the server refused; other errors reach the console", async () => {
    const t = agent();
    const s = welcomed(t);
    const sent = t.socket.request(reply("m2"));
    s.receive({ type: "error", code: "forbidden", message: "take the conversation first", ref: "m2" });
    await assert.rejects(sent, /take the conversation first/);
    s.receive({ type: "error", code: "not_found", message: "no such conversation", ref: null });
    assert.deepEqual(t.seen.frames.map((f) => f.type), ["welcome", "error"]);
  });

  it("rejects every reply still waiting when the socket closes, then reconnects", async () => {
    const t = agent();
    const s = welcomed(t);
    const first = t.socket.request(reply("m3"));
    const note = t.socket.request({ type: "note", conversation_id: 9, client_msg_id: "n1", text: "VIP" });
    s.serverClose(1012); // the server restarts before acking
    await assert.rejects(first, (e) => e.message === CONNECTION_LOST);
    await assert.rejects(note, (e) => e.message === CONNECTION_LOST);
    assert.equal(t.socket.replies.size, 0);
    assert.equal(t.seen.status.at(-1), "reconnecting");
    t.clock.advance(t.clock.timeouts()[0]);
    const again = t.net.last();
    assert.notEqual(again, s);
    again.accept();
    assert.deepEqual(again.sent, [{ type: "hello", token: "agent-token" }], "nothing is resent behind the agent's back");
    again.receive({ type: "welcome", agent_id: 3, heartbeat_s: 25 });
    const retry = t.socket.request(reply("m3"));
    again.receive({ type: "ack", conversation_id: 9, client_msg_id: "m3", seq: 12, duplicate: true });
    assert.equal((await retry).duplicate, true);
  });

  it("refuses to send while not connected", async () => {
    const t = agent();
    await assert.rejects(t.socket.request(reply("m4")), (e) => e.message === NOT_CONNECTED);
    t.socket.connect();
    t.net.last().accept(); // open, but no welcome yet
    await assert.rejects(t.socket.request(reply("m5")), (e) => e.message === NOT_CONNECTED);
    assert.equal(t.socket.send({ type: "typing", conversation_id: 9 }), false);
  });

  it("stays closed when the server refuses the token (1008)", async () => {
    const t = agent();
    const s = welcomed(t);
    const sent = t.socket.request(reply("m6"));
    s.serverClose(1008);
    await assert.rejects(sent, (e) => e.message === CONNECTION_LOST);
    assert.equal(t.seen.refused, 1);
    assert.deepEqual(t.clock.timeouts(), [], "no reconnect with a bad token");
  });

  it("on logout closes for good and settles what was waiting", async () => {
    const t = agent();
    const s = welcomed(t);
    const sent = t.socket.request(reply("m7"));
    t.socket.close();
    await assert.rejects(sent, (e) => e.message === CONNECTION_LOST);
    assert.deepEqual(s.closeCalls, [{ code: 1000, reason: "logout" }]);
    t.clock.advance(60_000);
    assert.equal(t.net.sockets.length, 1);
    assert.equal(t.seen.refused, 0);
  });

  it("pings every heartbeat and never drops a quiet socket by itself", () => {
    const t = agent();
    const s = welcomed(t);
    t.clock.advance(5 * 25_000);
    assert.equal(s.framesOf("ping").length, 5);
    assert.equal(t.net.sockets.length, 1);
  });
});
