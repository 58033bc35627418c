// The visitor's language as agents read it in the profile panel: its English name and the tag
// the widget sent in hello (e.g. "Persian (Iran) · fa-IR").

/** "Persian (Iran) · fa-IR" for a locale tag; the tag alone if the browser cannot name it;
 * null when the visitor's widget sent none. */
export function languageLabel(locale) {
  if (typeof locale !== "string" || !locale.trim()) return null;
  const tag = locale.trim();
  let name = null;
  try { name = new Intl.DisplayNames(["en"], { type: "language" }).of(tag); } catch (e) { name = null; }
  return name && name !== tag ? `${name} · ${tag}` : tag;
}
