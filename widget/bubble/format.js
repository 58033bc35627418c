// Answer formatting visitors see: links, line breaks and "- " lists from a knowledge-base
// answer; everything else stays text. Built as DOM nodes (never innerHTML); a link is an <a>
// only for an absolute http(s) or mailto URL, opened in a new tab with no referrer or opener.
//
//   [text](https://example.com)   a link named "text"       https://example.com   a bare link
//   - item                        consecutive lines: a list  newline                a line break

const LINK_PROTOCOLS = ["http:", "https:", "mailto:"];
export const LINK_REL = "noopener noreferrer nofollow";
// A markdown link, or a bare http(s) URL (up to whitespace, quotes or angle brackets).
const INLINE_RE = /\[([^\[\]\n]+)\]\(([^()\s]+)\)|\bhttps?:\/\/[^\s<>"'`]+/g;
const TRAILING_PUNCT = /[.,;:!?)\]}]+$/; // sentence punctuation after a bare URL is not part of it
const LIST_ITEM_RE = /^\s*[-*]\s+(.*)$/;

/** The URL as a link may use it (absolute http, https or mailto), or null. */
export function linkHref(url) {
  let parsed;
  try { parsed = new URL(url); } catch (e) { return null; }
  if (!LINK_PROTOCOLS.includes(parsed.protocol)) return null;
  if (parsed.protocol !== "mailto:" && !parsed.hostname) return null;
  return parsed.href;
}

/** A line's text split into pieces: {text} or {text, href}. Unsafe links stay text. */
export function parseInline(line) {
  const out = [];
  const push = (piece) => {
    const last = out[out.length - 1];
    if (!piece.href && last && !last.href) last.text += piece.text;
    else if (piece.text) out.push(piece);
  };
  let at = 0;
  INLINE_RE.lastIndex = 0;
  let m;
  while ((m = INLINE_RE.exec(line))) {
    let source = m[0], text, href;
    if (m[1] !== undefined) {
      text = m[1];
      href = linkHref(m[2]);
    } else {
      source = source.replace(TRAILING_PUNCT, "");
      text = source;
      href = linkHref(source);
    }
    push({ text: line.slice(at, m.index) });
    if (href) push({ text, href }); else push({ text: source });
    at = m.index + source.length;
    INLINE_RE.lastIndex = at;
  }
  push({ text: line.slice(at) });
  return out;
}

/** The answer as blocks: {lines: [pieces...]} (joined by line breaks) or {items: [pieces...]}. */
export function parseAnswer(text) {
  const blocks = [];
  for (const line of String(text == null ? "" : text).split(/\r\n|\r|\n/)) {
    const item = LIST_ITEM_RE.exec(line);
    const last = blocks[blocks.length - 1];
    if (item) {
      if (last && last.items) last.items.push(parseInline(item[1]));
      else blocks.push({ items: [parseInline(item[1])] });
    } else if (last && last.lines) {
      last.lines.push(parseInline(line));
    } else {
      blocks.push({ lines: [parseInline(line)] });
    }
  }
  return blocks;
}

function appendPieces(doc, parent, pieces) {
  for (const p of pieces) {
    if (!p.href) { parent.append(doc.createTextNode(p.text)); continue; }
    const a = doc.createElement("a");
    a.setAttribute("href", p.href);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", LINK_REL);
    a.textContent = p.text;
    parent.append(a);
  }
}

/** Append the formatted answer to `parent` (list and line-break elements, links, text). */
export function renderAnswer(parent, text, doc = parent.ownerDocument) {
  const blocks = parseAnswer(text);
  for (const block of blocks) {
    if (block.items) {
      const ul = doc.createElement("ul");
      ul.className = "fmt-list";
      // Inline: the bubble's and the console's stylesheets know nothing of lists in messages.
      ul.style.margin = "4px 0";
      ul.style.paddingLeft = "1.3em";
      ul.style.listStyle = "disc";
      for (const pieces of block.items) {
        const li = doc.createElement("li");
        appendPieces(doc, li, pieces);
        ul.append(li);
      }
      parent.append(ul);
      continue;
    }
    block.lines.forEach((pieces, j) => {
      if (j > 0) parent.append(doc.createElement("br"));
      appendPieces(doc, parent, pieces);
    });
  }
}
