// Desktop notifications for new chats (queued, or assigned to me): the browser's Notification
// API, permission asked once, on a user gesture (browsers ignore or block a request made
// without one). Denied or unsupported: the caller falls back to the beep and the tab title.
const ASKED_KEY = "chatdesk.notificationsAsked"; // localStorage: asked once per browser, not per tab

/** win: the window (tests and the page pass `window`). */
export function createNotifier(win) {
  const supported = () => typeof win.Notification === "function";

  /** On a click or key press: ask for permission if never asked before. */
  function ask() {
    if (!supported() || win.Notification.permission !== "default") return;
    if (win.localStorage.getItem(ASKED_KEY)) return;
    win.localStorage.setItem(ASKED_KEY, "1");
    try { win.Notification.requestPermission(); } catch (e) { /* old promise-less API */ }
  }

  /** Show one; false when not allowed (the caller beeps instead). onClick(): open the chat. */
  function show(title, body, onClick) {
    if (!supported() || win.Notification.permission !== "granted") return false;
    try {
      const n = new win.Notification(title, { body, tag: "chatdesk-" + title });
      n.onclick = () => { win.focus(); n.close(); onClick?.(); };
      return true;
    } catch (e) {
      return false; // e.g. Android Chrome only notifies from a service worker
    }
  }

  return { ask, show, supported };
}
