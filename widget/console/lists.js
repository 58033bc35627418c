// The conversation lists (queue, mine, tickets, all open), the tab title counting who waits, and
// a beep when someone new joins the queue.
import { $, el, fmtTime, showError } from "./dom.js";
import { paintSla, slaBadge } from "./sla.js";

const LISTS = ["queued", "mine", "tickets", "open"]; // element ids and ?filter= values alike
const REFRESH_DEBOUNCE_MS = 150; // several queue events in a burst cause one list reload
const BEEP_HZ = 880;
const BEEP_GAIN = 0.08;
const BEEP_S = 0.15;

export function updateTitle(waiting) {
  document.title = (waiting ? `(${waiting} waiting) ` : "") + "chatdesk console";
}

/** api: the REST client; current(): the open conversation's id; onOpen(id): open one;
 * notifier: desktop notifications (widget/console/notify.js), the beep when they are off. */
export function createLists({ api, current, onOpen, notifier = null }) {
  let queuedIds = null; // the queue at the last refresh: who is new since
  let mineIds = null; // my chats at the last refresh: newly assigned ones notify too
  let refreshTimer = null;
  let audio = null;

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => refresh().catch(showError), REFRESH_DEBOUNCE_MS);
  }

  async function refresh() {
    const results = await Promise.all(LISTS.map((f) => api("/agent/conversations?filter=" + f)));
    LISTS.forEach((id, i) => render(id, results[i]));
    const queued = results[0];
    const ids = new Set(queued.map((c) => c.id));
    if (queuedIds) {
      const fresh = [...ids].filter((id) => !queuedIds.has(id));
      if (fresh.length) notifyNewQueued(fresh.length, fresh[0], "waiting in the queue");
    }
    queuedIds = ids;
    const mine = new Set(results[1].map((c) => c.id));
    if (mineIds) {
      // Not the one open here: the agent just took it (or it was transferred while reading).
      const fresh = [...mine].filter((id) => !mineIds.has(id) && id !== current());
      if (fresh.length) notifyNewQueued(fresh.length, fresh[0], "assigned to you");
    }
    mineIds = mine;
    updateTitle(queued.length);
  }

  function render(id, rows) {
    const ul = $("list-" + id);
    ul.textContent = "";
    $("count-" + id).textContent = rows.length;
    if (id === "queued") $("count-queued").classList.toggle("hot", rows.length > 0);
    if (!rows.length) { ul.append(el("li", { className: "empty", textContent: "Nothing here." })); return; }
    for (const c of rows) {
      const label = `#${c.id} · ${c.state}` + (c.escalation_reason ? ` · ${c.escalation_reason.replaceAll("_", " ")}` : "")
        + (c.team ? ` · for ${c.team}` : ""); // issue 16: its team's members first
      const since = c.queued_at || c.assigned_at || c.created_at;
      const b = el("button", { type: "button", className: c.id === current() ? "current" : "" },
        label, el("span", { className: "sub", textContent: `visitor ${c.visitor_id} · since ${fmtTime(since)}` }));
      const timer = slaBadge(c.sla);
      if (timer) b.append(timer);
      b.dataset.id = c.id;
      b.onclick = () => onOpen(c.id);
      ul.append(el("li", {}, b));
    }
    paintSla(ul);
  }

  function notifyNewQueued(count, id, what) {
    const title = count > 1 ? `${count} new chats ${what}` : `New chat #${id} ${what}`;
    if (notifier?.show(title, "chatdesk console", () => onOpen(id))) {
      document.body.dataset.newQueued = String(Number(document.body.dataset.newQueued || 0) + count);
      return;
    }
    // Not allowed or not supported: a short beep (browsers allow it once the agent has
    // interacted with the page) and the tab title.
    try {
      audio = audio || new AudioContext();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = BEEP_HZ; gain.gain.value = BEEP_GAIN;
      osc.connect(gain).connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + BEEP_S);
    } catch (e) { /* no audio: the title still tells */ }
    document.body.dataset.newQueued = String(Number(document.body.dataset.newQueued || 0) + count);
  }

  /** Logged out: the next login's first refresh beeps for nobody. */
  function reset() { queuedIds = null; mineIds = null; }

  /** Mark the open conversation in every list. */
  function markCurrent(id) {
    document.querySelectorAll(".lists li button").forEach((b) => b.classList.toggle("current", Number(b.dataset.id) === id));
  }

  return { scheduleRefresh, refresh, reset, markCurrent };
}
