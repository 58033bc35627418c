// widget/console/sla.js and notify.js: what a list row's timer says, and when a new chat
// becomes a desktop notification (permission asked once; otherwise the caller beeps).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { fmtSpan, slaText } from "../../widget/console/sla.js";
import { createNotifier } from "../../widget/console/notify.js";

const NOW = Date.parse("2026-11-30T09:00:00Z");
const clock = (extra) => ({ metric: "first_response", paused: false, breached: false, ...extra });

describe("SLA timer text", () => {
  it("counts down, then up once overdue", () => {
    assert.deepEqual(slaText(clock({ due_at: "2026-11-30T09:01:05Z" }), NOW), ["first reply due in 1:05", false]);
    assert.deepEqual(slaText(clock({ due_at: "2026-11-30T08:58:00Z" }), NOW), ["first reply overdue 2:00", true]);
    assert.deepEqual(slaText(clock({ due_at: "2026-11-30T12:00:00Z", breached: true }), NOW)[1], true);
  });
  it("says paused and no target", () => {
    assert.match(slaText(clock({ paused: true, due_at: null }), NOW)[0], /paused/);
    assert.deepEqual(slaText(clock({ metric: "next_response", due_at: null }), NOW), ["next reply · no target", false]);
  });
  it("keeps long spans short", () => {
    assert.equal(fmtSpan(3 * 3600e3 + 5 * 60e3), "3h 5m");
    assert.equal(fmtSpan(2 * 86400e3 + 3 * 3600e3), "2d 3h");
  });
});

function fakeWindow(permission) {
  const shown = [];
  const store = new Map();
  class Notification {
    static permission = permission;
    static asked = 0;
    static requestPermission() { Notification.asked += 1; }
    constructor(title, options) { shown.push([title, options.body]); }
    close() {}
  }
  const localStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  return { Notification, localStorage, focus() {}, shown };
}

describe("desktop notifications", () => {
  it("asks once, only while undecided", () => {
    const win = fakeWindow("default");
    const n = createNotifier(win);
    n.ask(); n.ask();
    assert.equal(win.Notification.asked, 1);
    const granted = fakeWindow("granted");
    createNotifier(granted).ask();
    assert.equal(granted.Notification.asked, 0);
  });
  it("shows when granted, declines otherwise (the caller beeps)", () => {
    const win = fakeWindow("granted");
    assert.equal(createNotifier(win).show("New chat #3 waiting in the queue", "chatdesk console"), true);
    assert.deepEqual(win.shown, [["New chat #3 waiting in the queue", "chatdesk console"]]);
    assert.equal(createNotifier(fakeWindow("denied")).show("x", "y"), false);
    assert.equal(createNotifier({ localStorage: null }).show("x", "y"), false, "unsupported");
  });
});
