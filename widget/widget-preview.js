// The admin console's live preview (/admin/widget-preview, framed by the hours and widget
// section): the real /widget.js with the console's draft look. The first draft the console
// posts loads the widget with it as window.chatdeskConfig (preview: no socket until someone
// types, storage of its own); every later draft is applied at once. Only our own parent page
// is listened to.
"use strict";

let loaded = false;
let pending = null;

function draftFrom(data) {
  if (!data || data.type !== "chatdesk-preview" || typeof data.look !== "object" || !data.look) return null;
  const str = (v) => (typeof v === "string" && v.trim() ? v : null);
  return { title: str(data.look.title), greeting: str(data.look.greeting), color: str(data.look.color) };
}

window.addEventListener("message", (e) => {
  if (e.origin !== location.origin || e.source !== window.parent) return;
  const draft = draftFrom(e.data);
  if (!draft) return;
  if (loaded) {
    if (window.chatdesk && window.chatdesk.preview) window.chatdesk.preview(draft);
    else pending = draft; // the widget is still loading
    return;
  }
  loaded = true;
  window.chatdeskConfig = { url: location.origin, preview: true, ...draft };
  const script = document.createElement("script");
  script.src = "/widget.js";
  script.onload = () => { if (pending) window.chatdesk.preview(pending); pending = null; };
  document.body.append(script);
});
