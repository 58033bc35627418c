// The visitor's language in the console's profile panel (widget/console/language.js).
import assert from "node:assert/strict";
import test from "node:test";

import { languageLabel } from "../../widget/console/language.js";

test("agents read the visitor's language by name, with the tag the widget sent", () => {
  assert.equal(languageLabel("fa"), "Persian · fa");
  assert.equal(languageLabel("fa-IR"), "Persian (Iran) · fa-IR");
  assert.equal(languageLabel("zh-Hant"), "Traditional Chinese · zh-Hant");
  assert.equal(languageLabel("cs"), "Czech · cs");
  for (const none of [null, undefined, "", "  "]) assert.equal(languageLabel(none), null);
  assert.equal(languageLabel("not a tag!"), "not a tag!"); // shown as sent, as text
});
