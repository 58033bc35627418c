// The profile dialog's checks before an upload, and which avatar URLs the pages show at all.
import assert from "node:assert/strict";
import test from "node:test";

import { AVATAR_MAX_BYTES, avatarProblem, ownAvatar } from "../../widget/console/profile.js";

test("a picture is checked for type and size before it is sent", () => {
  assert.equal(avatarProblem(null), "Choose a picture first.");
  assert.equal(avatarProblem({ type: "image/svg+xml", size: 10 }), "Choose a PNG, JPEG, WebP or GIF picture.");
  assert.equal(avatarProblem({ type: "image/png", size: AVATAR_MAX_BYTES + 1 }), "That picture is over 1 MB.");
  for (const type of ["image/png", "image/jpeg", "image/webp", "image/gif"]) {
    assert.equal(avatarProblem({ type, size: AVATAR_MAX_BYTES }), null);
  }
});

test("only pictures this server stores are shown", () => {
  assert.ok(ownAvatar("/api/agents/12/avatar?v=abc123"));
  assert.ok(ownAvatar("/api/agents/12/avatar"));
  for (const url of [null, "", "https://evil.example/a.png", "javascript:alert(1)",
    "//evil.example/api/agents/1/avatar", "/api/agents/1/avatarx", "data:image/png;base64,AAAA"]) {
    assert.equal(ownAvatar(url), false, url);
  }
});
