// widget/bubble/session.js: the bubble's protocol client, as the visitor would notice it: nothing
// typed is lost or doubled across drops and reloads, nothing shown twice, resume after the last
// seq. The test plays the server on a fake socket.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DRAFT_PREVIEW_CHARS, KEEP_MESSAGES, VisitorSession, pageUrlToSend } from "../../widget/bubble/session.js";
import { FakeClock, fakeSockets, memoryStore } from "./fakes.mjs";

const CONV = 41;

const LONG_PATH = "/cart/" + "y".repeat(3000);

function visitor({ store = memoryStore(), net = fakeSockets(), clock = new FakeClock(), identity = () => null,
  pageUrl = () => "https://shop.test" + LONG_PATH, keepPageQuery = false } = {}) {
  const seen = { shown: [], acked: [], failed: [], errors: [], states: 0, changed: 0, typing: [], status: [] };
  const session = new VisitorSession({
    store, url: "ws://chat.test/ws/visitor", WebSocket: net.FakeWebSocket, timers: clock, random: () => 0.5,
    locale: "de-AT", pageUrl, keepPageQuery, identity,
    view: {
      shown: (r) => seen.shown.push(r), acked: (r) => seen.acked.push(r), failed: (r) => seen.failed.push(r),
      error: (t) => seen.errors.push(t), stateChanged: () => seen.states++, conversationChanged: () => seen.changed++,
      typing: (f) => seen.typing.push(f), status: (s) => seen.status.push(s),
    },
  });
  return { session, store, net, clock, seen };
}

/** Open the socket and answer its hello with a welcome; returns [socket, hello]. */
function connect(t, { conversation = CONV, state = { state: "bot" } } = {}) {
  t.session.connect();
  return welcome(t, { conversation, state });
}

function welcome(t, { conversation = CONV, state = { state: "bot" } } = {}) {
  const s = t.net.last();
  s.accept();
  const hello = s.sent[0];
  s.receive({ type: "welcome", token: "tok-1", visitor_id: 7, conversation_id: conversation, heartbeat_s: 25, state: { conversation_id: conversation, ...state } });
  return [s, hello];
}

const msg = (seq, fields = {}) => ({ type: "message", conversation_id: CONV, seq, sender: "bot", text: "answer " + seq, client_msg_id: null, author: null, meta: {}, created_at: "2026-01-01T10:00:00Z", ...fields });

/** The server side closes; the session reconnects after its backoff. */
function reconnect(t, code = 1012) {
  t.net.last().serverClose(code);
  t.clock.advance(t.clock.timeouts()[0]);
  return welcome(t);
}

describe("VisitorSession", () => {
  it("says hello as a new visitor, then keeps the token it is given", () => {
    const t = visitor({ identity: () => ({ user_id: "u1", signature: "ab" }) });
    const [, hello] = connect(t);
    assert.deepEqual(hello, {
      type: "hello", token: null, conversation_id: null, last_seq: 0, locale: "de-AT",
      page_url: ("https://shop.test" + LONG_PATH).slice(0, 2048),
      identity: { user_id: "u1", signature: "ab" },
    });
    assert.equal(t.store.get("token"), "tok-1");
    assert.equal(t.store.get("conv"), CONV);
    assert.deepEqual(t.seen.status, ["connecting", "online"]);
  });

  it("sends the page without its query, fragment or credentials unless the site keeps them", () => {
    const page = () => "https://ann:pw@shop.test/reset?token=SECRET-123&code=oauth#access_token=XYZ";
    const [, stripped] = connect(visitor({ pageUrl: page }));
    assert.equal(stripped.page_url, "https://shop.test/reset");
    const [, kept] = connect(visitor({ pageUrl: page, keepPageQuery: true }));
    assert.equal(kept.page_url, "https://shop.test/reset?token=SECRET-123&code=oauth#access_token=XYZ");
    assert.equal(pageUrlToSend("not a url"), "");
  });

  it("forgets the chat of another signed-in user kept in this browser; a new login keeps its own", () => {
    const store = memoryStore();
    const ann = visitor({ store, identity: () => ({ user_id: "ann", signature: "ab" }) });
    const [s] = connect(ann);
    s.receive(msg(1, { text: "Ann's private answer" }));
    ann.session.message("Ann's unsent question");
    // Bob signs in on the same browser: nothing of Ann's is shown, resumed or sent.
    const bob = visitor({ store, identity: () => ({ user_id: "bob", signature: "cd" }) });
    assert.deepEqual(bob.session.records, []);
    const [bs, hello] = connect(bob);
    assert.equal(hello.token, null);
    assert.equal(hello.conversation_id, null);
    assert.deepEqual(bs.framesOf("message"), []);
    // Bob signs out on the same page (a single-page app): forgotten before the next hello.
    bs.receive(msg(2, { text: "Bob's answer" }));
    let who = { user_id: "bob", signature: "cd" };
    bob.session.identity = () => who;
    who = null;
    const [, anon] = reconnect(bob);
    assert.equal(anon.token, null, "signed out: Bob's token is not sent");
    assert.equal(anon.conversation_id, null);
    assert.deepEqual(bob.session.records, []);
    // An anonymous visitor who signs in keeps their chat (the server makes it theirs).
    const mine = visitor({ store: memoryStore({ token: "tok-anon", conv: CONV, user: null }),
      identity: () => ({ user_id: "cy", signature: "ef" }) });
    const [, signedIn] = connect(mine);
    assert.equal(signedIn.token, "tok-anon");
  });

  it("shows a message sent at once; its ack marks it sent with its seq", () => {
    const t = visitor();
    const [s] = connect(t);
    const r = t.session.message("how much is postage?");
    assert.equal(r.st, "sending");
    const [frame] = s.framesOf("message");
    assert.equal(frame.text, "how much is postage?");
    assert.equal(t.store.get("pending").length, 1, "kept until confirmed");
    s.receive({ type: "ack", conversation_id: CONV, client_msg_id: frame.client_msg_id, seq: 1, duplicate: false });
    assert.equal(r.st, "sent");
    assert.equal(r.seq, 1);
    assert.deepEqual(t.seen.acked, [r]);
    assert.deepEqual(t.store.get("pending"), []);
    assert.equal(t.session.lastSeq, 1);
  });

  it("takes its own message coming back as the acknowledgement (no ack follows)", () => {
    const t = visitor();
    const [s] = connect(t);
    const r = t.session.message("how much is postage?");
    const [frame] = s.framesOf("message");
    s.receive({ type: "message", conversation_id: CONV, seq: 1, sender: "visitor", client_msg_id: frame.client_msg_id, text: frame.text, meta: {}, created_at: "2026-12-07T21:00:00+00:00" });
    assert.equal(r.st, "sent");
    assert.equal(r.seq, 1);
    assert.equal(t.session.records.length, 1, "the same bubble, not a second one");
    assert.deepEqual(t.store.get("pending"), []);
    t.session.handoff("Talk to a person");
    const [asked] = s.framesOf("handoff");
    s.receive({ type: "message", conversation_id: CONV, seq: 2, sender: "visitor", client_msg_id: asked.client_msg_id, text: "Talk to a person", meta: {}, created_at: "2026-12-07T21:00:01+00:00" });
    assert.deepEqual(t.store.get("pending"), [], "a handoff is confirmed by its message too");
    const [again] = reconnect(t);
    assert.deepEqual(again.framesOf("message").concat(again.framesOf("handoff")), [], "nothing resent");
  });

  it("resends an unacknowledged message after a reconnect with the same client_msg_id", () => {
    const t = visitor();
    const [first] = connect(t);
    t.session.message("anyone there?");
    const [sent] = first.framesOf("message");
    const [second] = reconnect(t); // the ack was lost with the socket
    const [resent] = second.framesOf("message");
    assert.equal(resent.client_msg_id, sent.client_msg_id);
    assert.equal(resent.text, "anyone there?");
    second.receive({ type: "ack", conversation_id: CONV, client_msg_id: sent.client_msg_id, seq: 1, duplicate: true });
    const [third] = reconnect(t);
    assert.deepEqual(third.framesOf("message"), [], "confirmed: never sent again");
  });

  it("queues what is typed while offline and sends it once welcomed", () => {
    const t = visitor();
    t.session.connect(); // not open yet
    t.session.message("first");
    t.session.message("second");
    assert.deepEqual(t.session.records.map((r) => r.st), ["sending", "sending"]);
    const [s] = welcome(t);
    assert.deepEqual(s.framesOf("message").map((f) => f.text), ["first", "second"]);
  });

  it("resumes after the last seq it shows, in the same conversation", () => {
    const t = visitor();
    const [s] = connect(t);
    for (const seq of [1, 2, 3]) s.receive(msg(seq));
    const [, hello] = reconnect(t);
    assert.equal(hello.conversation_id, CONV);
    assert.equal(hello.last_seq, 3);
    assert.equal(hello.token, "tok-1");
  });

  it("drops a seq it already shows (the replay after a resume overlaps the live stream)", () => {
    const t = visitor();
    const [s] = connect(t);
    s.receive(msg(1));
    s.receive(msg(2));
    s.receive(msg(2));
    const [again] = reconnect(t);
    again.receive(msg(1));
    again.receive(msg(2));
    again.receive(msg(3));
    assert.deepEqual(t.seen.shown.map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(t.session.records.map((r) => r.seq), [1, 2, 3]);
    again.receive(msg(4, { conversation_id: CONV + 1 }));
    assert.equal(t.session.records.length, 3, "another conversation's message is not ours");
  });

  it("turns its own message's echo into the same bubble, before or after the ack", () => {
    const t = visitor();
    const [s] = connect(t);
    const r = t.session.message("hello");
    const cmid = s.framesOf("message")[0].client_msg_id;
    s.receive(msg(1, { sender: "visitor", text: "hello", client_msg_id: cmid }));
    assert.equal(t.session.records.length, 1);
    assert.equal(r.seq, 1);
    assert.equal(r.st, "sent");
    assert.deepEqual(t.store.get("pending"), [], "the echo confirms it too");
    s.receive({ type: "ack", conversation_id: CONV, client_msg_id: cmid, seq: 1, duplicate: false });
    const r2 = t.session.message("again");
    const cmid2 = s.framesOf("message")[1].client_msg_id;
    s.receive({ type: "ack", conversation_id: CONV, client_msg_id: cmid2, seq: 2, duplicate: false });
    s.receive(msg(2, { sender: "visitor", text: "again", client_msg_id: cmid2 }));
    assert.deepEqual(t.session.records, [r, r2], "no second bubble for an acknowledged message");
  });

  it("keeps unsent messages last, in seq order among the rest", () => {
    const t = visitor();
    const [s] = connect(t);
    s.receive(msg(1));
    t.session.message("pending one");
    s.receive(msg(3));
    s.receive(msg(2));
    assert.deepEqual(t.session.records.map((r) => r.seq), [1, 2, 3, null]);
  });

  it("continues on the next page load from what it stored", () => {
    const store = memoryStore();
    const t = visitor({ store });
    const [s] = connect(t);
    s.receive(msg(1));
    s.receive(msg(2));
    t.session.message("typed just before leaving");
    const cmid = s.framesOf("message")[0].client_msg_id;

    const next = visitor({ store }); // another page of the site, same localStorage
    assert.deepEqual(next.session.records.map((r) => r.st || r.seq), [1, 2, "sending"]);
    const [page2, hello] = connect(next);
    assert.equal(hello.token, "tok-1");
    assert.equal(hello.conversation_id, CONV);
    assert.equal(hello.last_seq, 2);
    assert.deepEqual(page2.framesOf("message").map((f) => f.client_msg_id), [cmid]);
  });

  it("stores at most the newest 300 messages", () => {
    const t = visitor();
    const [s] = connect(t);
    for (let seq = 1; seq <= KEEP_MESSAGES + 5; seq++) s.receive(msg(seq));
    const stored = t.store.get("msgs");
    assert.equal(stored.length, KEEP_MESSAGES);
    assert.equal(stored[0].seq, 6);
  });

  it("starts afresh when the server opens a new conversation, keeping only what is unsent", () => {
    const t = visitor();
    const [s] = connect(t);
    s.receive(msg(1));
    s.receive(msg(2));
    t.session.markRead();
    t.session.message("after close");
    s.serverClose(1012);
    t.clock.advance(t.clock.timeouts()[0]);
    const [next] = welcome(t, { conversation: CONV + 1 });
    assert.equal(t.seen.changed, 2, "the first welcome named the first conversation");
    assert.equal(t.session.conversationId, CONV + 1);
    assert.deepEqual(t.session.records.map((r) => r.text), ["after close"]);
    assert.equal(t.session.lastSeq, 0);
    assert.equal(t.session.readSeq, 0);
    assert.equal(next.framesOf("message").length, 1);
    next.receive(msg(1, { conversation_id: CONV + 1 }));
    assert.equal(t.session.records.length, 2, "seq 1 of the new conversation is new");
  });

  it("marks a refused message failed and stops resending it", () => {
    const t = visitor();
    const [s] = connect(t);
    const r = t.session.message("x");
    const cmid = s.framesOf("message")[0].client_msg_id;
    s.receive({ type: "error", code: "too_long", message: "text is over 8192 bytes", ref: cmid });
    assert.equal(r.st, "failed");
    assert.deepEqual(t.seen.failed, [r]);
    assert.deepEqual(t.seen.errors, ["text is over 8192 bytes"]);
    const [again] = reconnect(t);
    assert.deepEqual(again.framesOf("message"), []);
  });

  it("drops frames an older server does not know, and says nothing about them or a stale token", () => {
    const t = visitor();
    const [s] = connect(t);
    t.session.vote(5, true);
    t.session.rate(4, "");
    s.receive({ type: "error", code: "unknown_type", message: "unknown frame type 'rating'", ref: null });
    s.receive({ type: "error", code: "invalid_token", message: "unknown token", ref: null });
    assert.deepEqual(t.seen.errors, []);
    const [again] = reconnect(t);
    assert.deepEqual(again.sent.slice(1).map((f) => f.type), ["feedback"]);
  });

  it("keeps feedback and a rating until the server saved them", () => {
    const t = visitor();
    const [s] = connect(t);
    t.session.vote(5, false);
    t.session.rate(5, "Quick and friendly");
    assert.deepEqual(s.sent.slice(1), [
      { type: "feedback", seq: 5, helpful: false },
      { type: "rating", stars: 5, comment: "Quick and friendly" },
    ]);
    assert.equal(t.session.votedOn(5), true);
    assert.equal(t.session.hasRated(), true);
    s.receive({ type: "feedback_saved", seq: 5 });
    const [again] = reconnect(t);
    assert.deepEqual(again.sent.slice(1).map((f) => f.type), ["rating"]);
    again.receive({ type: "rating_saved" });
    assert.deepEqual(t.store.get("pending"), []);
  });

  it("asks the NPS question only when rating_saved says so, and keeps the answer until saved", () => {
    const t = visitor();
    const [s] = connect(t);
    t.session.rate(4, "");
    s.receive({ type: "rating_saved", nps: false });
    assert.equal(t.session.npsStage(), null, "switched off: one question only");

    const u = visitor();
    const [v] = connect(u);
    u.session.rate(5, "");
    const before = u.seen.states;
    v.receive({ type: "rating_saved", nps: true });
    assert.equal(u.session.npsStage(), "ask");
    assert.equal(u.seen.states, before + 1, "the view shows the 0-10 question");
    u.session.answerNps(9);
    assert.equal(u.session.npsStage(), "done");
    assert.deepEqual(v.framesOf("nps"), [{ type: "nps", score: 9 }]);
    const [again] = reconnect(u);
    assert.deepEqual(again.framesOf("nps"), [{ type: "nps", score: 9 }], "resent until saved");
    again.receive({ type: "nps_saved" });
    assert.deepEqual(u.store.get("pending"), []);
  });

  it("sends the draft only while a person holds the chat, cut to a preview", () => {
    const t = visitor();
    const [s] = connect(t);
    t.session.sendDraft("my parcel");
    assert.deepEqual(s.framesOf("typing"), []);
    s.receive({ type: "state", conversation_id: CONV, state: "assigned", agent: { name: "Alice" } });
    t.session.sendDraft("x".repeat(DRAFT_PREVIEW_CHARS + 10));
    assert.equal(s.framesOf("typing")[0].draft.length, DRAFT_PREVIEW_CHARS);
    assert.equal(t.store.get("state").state, "assigned");
  });

  it("a rating request closes the chat; an agent's typing reaches the view", () => {
    const t = visitor();
    const [s] = connect(t, { state: { state: "assigned" } });
    s.receive({ type: "typing", conversation_id: CONV, sender: "agent", name: "Alice" });
    s.receive({ type: "typing", conversation_id: CONV, sender: "visitor" });
    assert.deepEqual(t.seen.typing.map((f) => f.name), ["Alice"]);
    const before = t.seen.states;
    s.receive(msg(3, { sender: "system", meta: { kind: "rating_request" } }));
    assert.equal(t.session.state.state, "closed");
    assert.equal(t.seen.states, before + 1, "the view shows the rating form");
    assert.equal(t.store.get("state").state, "closed");
  });

  it("counts unread messages from others after what was read", () => {
    const t = visitor();
    const [s] = connect(t);
    s.receive(msg(1));
    t.session.markRead();
    s.receive(msg(2, { sender: "agent" }));
    s.receive(msg(3, { sender: "visitor", client_msg_id: "other-tab" }));
    s.receive(msg(4));
    assert.equal(t.session.unreadCount(), 2);
  });

  it("drops a silent socket and resumes on a new one (heartbeat)", () => {
    const t = visitor();
    const [s] = connect(t);
    s.receive(msg(1));
    t.clock.advance(60_000); // pings go out, no pong comes back
    assert.ok(s.framesOf("ping").length >= 2);
    t.clock.advance(15_000); // 75 s: silent for three beats
    assert.equal(s.closeCalls.length, 1, "dropped");
    assert.equal(t.net.sockets.length, 1, "waiting to reconnect");
    t.clock.advance(t.clock.timeouts()[0]);
    const [, hello] = welcome(t);
    assert.equal(hello.last_seq, 1);
  });

  it("reconnects at once when the browser is back online", () => {
    const t = visitor();
    const [s] = connect(t);
    t.session.offline();
    assert.equal(s.closeCalls.length, 1);
    for (let i = 0; i < 3; i++) { t.clock.advance(t.clock.timeouts()[0]); t.net.last().serverClose(1006); }
    assert.ok(t.clock.timeouts()[0] > 1000, "backing off while offline");
    t.session.online();
    assert.equal(t.net.sockets.length, 5, "online: no wait");
    assert.deepEqual(t.clock.timeouts(), []);
  });

  it("keeps the welcome's topics and sends the one picked with the handoff (issue 16)", () => {
    const t = visitor();
    t.session.connect();
    const s = t.net.last();
    s.accept();
    s.receive({ type: "welcome", token: "tok-1", visitor_id: 7, conversation_id: CONV, heartbeat_s: 25,
      state: { conversation_id: CONV, state: "bot" }, topics: [{ id: 3, name: "Orders" }] });
    assert.deepEqual(t.session.topics, [{ id: 3, name: "Orders" }]);
    t.session.handoff("Talk to a person", 3);
    t.session.handoff("Talk to a person");
    const sent = s.sent.filter((f) => f.type === "handoff");
    assert.equal(sent[0].team_id, 3);
    assert.equal("team_id" in sent[1], false, "no topic: no team_id");
  });
});
