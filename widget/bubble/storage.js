// Where the bubble remembers things: localStorage (shared by all pages of the site: the token,
// the conversation) or sessionStorage (this tab: panel open, draft), as JSON under a prefix per
// chatdesk server. When the browser refuses storage (privacy modes, sandboxed frames) it lives
// in memory for this page only.

const memory = {};

/** kind: "localStorage" | "sessionStorage"; returns {get(key, fallback), set(key, value)}. */
export function openStore(win, kind, prefix) {
  let s = null;
  try { s = win[kind]; s.setItem(prefix + "?", "1"); s.removeItem(prefix + "?"); } catch (e) { s = null; }
  const memKey = (k) => kind + prefix + k;
  return {
    get(k, fallback) {
      try {
        const v = s ? s.getItem(prefix + k) : memory[memKey(k)];
        return v == null ? fallback : JSON.parse(v);
      } catch (e) { return fallback; }
    },
    set(k, v) {
      const json = JSON.stringify(v);
      try { if (s) s.setItem(prefix + k, json); else memory[memKey(k)] = json; } catch (e) { memory[memKey(k)] = json; }
    },
  };
}
