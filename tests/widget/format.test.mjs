// widget/bubble/format.js: what of a knowledge-base answer becomes a link, a line break or a
// list, and that nothing else ever becomes markup.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { LINK_REL, linkHref, parseAnswer, parseInline, renderAnswer } from "../../widget/bubble/format.js";

/** A document just big enough for renderAnswer: elements, text nodes, attributes. */
class FakeNode {
  constructor(tag, text) {
    this.tag = tag; this.text = text; this.children = []; this.attrs = {}; this.style = {};
    this.className = "";
  }
  append(...nodes) { this.children.push(...nodes); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  set textContent(t) { this.children = [new FakeNode("#text", String(t))]; }
  get textContent() { return this.tag === "#text" ? this.text : this.children.map((c) => c.textContent).join(""); }
}
const doc = { createElement: (t) => new FakeNode(t), createTextNode: (t) => new FakeNode("#text", t) };

function render(text) {
  const root = new FakeNode("div");
  renderAnswer(root, text, doc);
  return root;
}

/** The rendered tree as nested arrays: [tag, ...children] and strings for text. */
function shape(node) {
  if (node.tag === "#text") return node.text;
  return [node.tag, ...node.children.map(shape)];
}

function all(node, tag) {
  const out = node.tag === tag ? [node] : [];
  for (const c of node.children || []) out.push(...all(c, tag));
  return out;
}

describe("links", () => {
  it("accepts absolute http(s) and mailto only", () => {
    assert.equal(linkHref("https://shop.example/a?b=1"), "https://shop.example/a?b=1");
    assert.equal(linkHref("mailto:help@shop.example"), "mailto:help@shop.example");
    for (const bad of ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>", "/relative",
      "vbscript:x", "file:///etc/passwd", "https://", "java\tscript:alert(1)", "//evil.example"]) {
      assert.equal(linkHref(bad), null, bad);
    }
  });

  it("makes markdown links and bare URLs, trimming sentence punctuation", () => {
    assert.deepEqual(parseInline("See [our returns page](https://shop.example/returns)."), [
      { text: "See " }, { text: "our returns page", href: "https://shop.example/returns" }, { text: "." },
    ]);
    assert.deepEqual(parseInline("Go to https://shop.example/faq, or mail us."), [
      { text: "Go to " }, { text: "https://shop.example/faq", href: "https://shop.example/faq" },
      { text: ", or mail us." },
    ]);
    assert.deepEqual(parseInline("[Write to us](mailto:help@shop.example)"), [
      { text: "Write to us", href: "mailto:help@shop.example" },
    ]);
  });

  it("leaves an unsafe or malformed link as the text it was", () => {
    for (const text of ["[click](javascript:alert(1))", "[click](javascript:__xss(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)",
      "[x](/relative/path)", "[unclosed](https://a.example", "<a href=\"https://a.example\">a</a>"]) {
      const pieces = parseInline(text);
      assert.equal(pieces.map((p) => p.text).join(""), text.replace(/https:\/\/a\.example/, "https://a.example"));
      for (const p of pieces) assert.ok(!p.href || /^https:\/\/a\.example/.test(p.href), text);
    }
    assert.deepEqual(parseInline("[click](javascript:alert(1))"), [{ text: "[click](javascript:alert(1))" }]);
  });
});

describe("blocks", () => {
  it("turns '- ' lines into one list and keeps line breaks", () => {
    assert.deepEqual(parseAnswer("We ship to:\n- the EU\n- the UK\nThanks!\nBye"), [
      { lines: [[{ text: "We ship to:" }]] },
      { items: [[{ text: "the EU" }], [{ text: "the UK" }]] },
      { lines: [[{ text: "Thanks!" }], [{ text: "Bye" }]] },
    ]);
    assert.deepEqual(parseAnswer("a\r\nb"), [{ lines: [[{ text: "a" }], [{ text: "b" }]] }]);
    assert.deepEqual(parseAnswer("-not a list"), [{ lines: [[{ text: "-not a list" }]] }]);
  });

  it("renders elements, links with rel and target, and text as text", () => {
    const root = render("Hello <b>there</b>\n- see [docs](https://d.example)\n- <img src=x onerror=alert(1)>");
    assert.deepEqual(shape(root), [
      "div",
      "Hello <b>there</b>",
      ["ul", ["li", "see ", ["a", "docs"]], ["li", "<img src=x onerror=alert(1)>"]],
    ]);
    const [a] = all(root, "a");
    assert.deepEqual(a.attrs, { href: "https://d.example/", target: "_blank", rel: LINK_REL });
    assert.equal(LINK_REL, "noopener noreferrer nofollow");
    assert.equal(render("one\ntwo").children.map((c) => c.tag).join(","), "#text,br,#text");
  });

  it("makes only div, ul, li, br, a and text of any input", () => {
    const nasty = "<script>x</script>\n- [a](https://ok.example/\"onmouseover=\"x)\n"
      + "[b](https://ok.example/' onclick='x')\nhttps://ok.example/<svg/onload=x>\n- \u0000\n";
    const root = render(nasty);
    const tags = new Set();
    (function walk(n) { tags.add(n.tag); for (const c of n.children) walk(c); })(root);
    for (const t of tags) assert.ok(["div", "ul", "li", "br", "a", "#text"].includes(t), t);
    for (const a of all(root, "a")) {
      assert.match(a.attrs.href, /^https:\/\/ok\.example\//);
      assert.deepEqual(Object.keys(a.attrs).sort(), ["href", "rel", "target"]);
    }
    assert.equal(render("").children.length, 0);
    assert.equal(render(null).children.length, 0);
  });
});
