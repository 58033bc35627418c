// The API keys admin part's pure helpers (widget/admin/api_keys.js), without a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { endOfDay, keyState, SCOPES } from "../../widget/admin/api_keys.js";

test("a key is active, revoked (whatever its expiry) or expired, as the server judges it", () => {
  const now = Date.parse("2030-05-01T12:00:00Z");
  assert.equal(keyState({ revoked_at: null, expires_at: null }, now), "active");
  assert.equal(keyState({ revoked_at: null, expires_at: "2030-05-02T00:00:00Z" }, now), "active");
  assert.equal(keyState({ revoked_at: null, expires_at: "2030-05-01T11:59:59Z" }, now), "expired");
  assert.equal(keyState({ revoked_at: "2030-04-01T00:00:00Z", expires_at: "2030-04-02T00:00:00Z" }, now), "revoked");
});

test("an expiry day means the end of that day; none means none", () => {
  assert.equal(endOfDay(""), null);
  const end = new Date(endOfDay("2030-05-01"));
  assert.equal([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()].join(), "2030,4,1,23,59");
});

test("the page offers exactly the server's scopes", () => {
  assert.deepEqual(SCOPES.map(([s]) => s), ["conversations:read", "messages:write", "kb:manage"]);
});
