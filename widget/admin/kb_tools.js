// The knowledge base section's tools: the bot's rebuild and calibration (polled while a
// rebuild runs), "try a question", file import with a progress bar, and export.
import { el, fmtDate } from "../console/dom.js";
import { renderAnswer } from "../bubble/format.js";

const TOKEN_KEY = "chatdesk.agentToken"; // the login the console keeps in this tab (admin.js)
const POLL_MS = 700; // rebuild progress: often enough to see it move, rarely enough to be free
const WAIT_FOR_REBUILD_MS = 120000; // an edit's rebuild starts within a second; give up after this
const MAX_IMPORT_BYTES = 2 * 1024 * 1024; // the server's limit (handoff/kb_admin.py): fail early
const UPLOAD_SHARE = 0.7; // of the progress bar: the upload; the rest is the server's check/apply
const ACTIONS = { answer: "Answers", clarify: "Asks “did you mean…?”", escalate: "Hands over to a person" };

const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
const n3 = (x) => (typeof x === "number" ? x.toFixed(3) : "–");

/** The bot's state: what answers now, and a rebuild's progress while one runs. */
export function createStatus({ api, onStatus = () => {} }) {
  const text = el("span", { id: "kb-status-text" });
  const bar = el("progress", { id: "kb-rebuild", max: 1, hidden: true });
  const node = el("div", { id: "kb-status", className: "kb-status", role: "status" }, bar, text);
  let polling = null;

  function show(s, waiting) {
    onStatus(s);
    const busy = s.rebuilding || waiting;
    node.dataset.state = busy ? "rebuilding" : "ready";
    bar.hidden = !busy;
    const share = /(\d+)%/.exec(s.progress || "");
    if (share) bar.value = Number(share[1]) / 100; else bar.removeAttribute("value"); // indeterminate
    const t = s.thresholds || {};
    const calibration = `${s.entries} entries · ${s.stage} · answer ≥ ${n3(t.answer)}, clarify ≥ ${n3(t.clarify)}`
      + `, margin ${n3(t.margin)}` + (t.sure < 1 ? `, sure ≥ ${n3(t.sure)}` : "")
      + ` · calibrated ${fmtDate(s.calibrated_at)}`;
    text.textContent = busy
      ? `Rebuilding: ${waiting && !s.rebuilding ? "starting" : s.progress}. Answers continue from: ${calibration}`
      : `Bot ready: ${calibration}`;
  }

  let seen = null; // built_at of the index last shown
  let generation = 0; // a newer watch() ends an older one's polling

  /** Show the status; poll while a rebuild runs, and after a `changed` until it has run. */
  async function watch(changed = false) {
    const mine = ++generation;
    const since = seen;
    const started = Date.now();
    let moved = false;
    clearTimeout(polling);
    const tick = async () => {
      if (mine !== generation) return;
      try {
        const s = await api("/admin/kb/status");
        moved = moved || s.rebuilding || (since !== null && s.built_at !== since);
        const waiting = changed && !moved && Date.now() - started < WAIT_FOR_REBUILD_MS;
        seen = s.built_at;
        show(s, waiting);
        if ((s.rebuilding || waiting) && mine === generation) polling = setTimeout(tick, POLL_MS);
      } catch (e) { text.textContent = "Status unavailable: " + e.message; }
    };
    await tick();
  }
  return { node, watch };
}

/** "Try a question": what the bot would do now, the candidates' scores, and why. */
export function createTryBox({ api }) {
  const input = el("input", { id: "kb-try-q", required: true, maxLength: 8192, placeholder: "A visitor's question" });
  const button = el("button", { type: "submit", textContent: "Try" });
  const result = el("div", { id: "kb-try-result", className: "kb-try-result", ariaLive: "polite" });
  const form = el("form", { id: "kb-try", className: "card kb-try" },
    el("h2", { textContent: "Try a question" }),
    el("div", { className: "kb-row" }, input, button), result);

  function show(r) {
    const action = el("strong", { id: "kb-try-action", className: "kb-action " + r.action, textContent: ACTIONS[r.action] || r.action });
    const parts = [el("p", {}, action, " ", el("span", { id: "kb-try-why", textContent: "— " + r.why }))];
    if (r.answer != null) {
      const answer = el("div", { className: "kb-try-answer" });
      renderAnswer(answer, r.answer, document);
      if (r.answer_language) { answer.lang = r.answer_language; answer.dir = "auto"; }
      const inLanguage = r.answer_language ? ` (${r.answer_language})` : "";
      parts.push(el("p", { className: "muted", textContent: `With ${r.entry_id}${inLanguage}:` }), answer);
    }
    if (r.options.length) {
      parts.push(el("p", { className: "muted", textContent: "Buttons offered: " + r.options.map((o) => o.question).join(" · ") + " · None of these" }));
    }
    const rows = r.candidates.map((c, i) => el("tr", { className: i === 0 ? "best" : "" },
      el("td", { textContent: String(i + 1) }),
      el("td", {}, el("code", { textContent: c.entry_id }), " ", c.question || ""),
      el("td", { className: "num", textContent: n3(c.score) })));
    if (rows.length) {
      parts.push(el("table", { id: "kb-try-candidates" },
        el("thead", {}, el("tr", {}, ...["#", "Candidate", "Score"].map((t) => el("th", { textContent: t })))),
        el("tbody", {}, ...rows)));
    }
    const t = r.thresholds;
    parts.push(el("p", { className: "muted", textContent: `Confidence ${n3(r.confidence)} · lead over the runner-up ${n3(r.runner_up_gap)}`
      + ` · ${r.stage}: answer ≥ ${n3(t.answer)}, clarify ≥ ${n3(t.clarify)}, margin ${n3(t.margin)}. Nothing was stored.` }));
    result.replaceChildren(...parts);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      show(await api("/admin/kb/try", { method: "POST", body: JSON.stringify({ question: input.value }) }));
    } catch (e) {
      result.replaceChildren(el("p", { className: "error", textContent: e.message }));
    } finally { button.disabled = false; }
  });
  return { node: form };
}

/** POST a file's bytes with upload progress (0..1); resolves {status, body}. */
function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api" + path);
    xhr.setRequestHeader("Authorization", "Bearer " + token());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error("The upload failed (network error)."));
    xhr.send(file);
  });
}

/** Import: check the file (a dry run), show every problem, or confirm and replace the KB. */
export function createImporter({ onImported }) {
  const file = el("input", { type: "file", id: "kb-file", accept: ".jsonl,.json,.csv,.md,.markdown" });
  const bar = el("progress", { id: "kb-import-progress", max: 1, value: 0, hidden: true });
  const label = el("span", { id: "kb-import-label", className: "muted" });
  const result = el("div", { id: "kb-import-result" });
  const node = el("div", { className: "card kb-import" },
    el("h2", { textContent: "Import a file" }),
    el("p", { className: "muted", textContent: "JSONL, CSV (id, question, variants with | between them, answer) or Markdown"
      + " (## question, the answer, “Also asked:” and a list). Importing REPLACES the whole knowledge base;"
      + " the file is checked first, and a file with any problem changes nothing." }),
    file, el("div", { className: "kb-row" }, bar, label), result);

  async function send(chosen, dryRun) {
    bar.hidden = false; bar.value = 0;
    const query = `?filename=${encodeURIComponent(chosen.name)}&dry_run=${dryRun}`;
    const r = await upload("/admin/kb/import" + query, chosen, (done) => {
      bar.value = done * UPLOAD_SHARE;
      label.textContent = done < 1 ? `Uploading ${Math.round(done * 100)} %` : (dryRun ? "Checking…" : "Importing…");
    });
    bar.value = 1;
    return r;
  }

  function problems(body) {
    const list = el("ul", { id: "kb-problems", className: "kb-problems" },
      ...body.problems.map((p) => el("li", {}, el("b", { textContent: p.line ? `Line ${p.line}: ` : "File: " }), p.message)));
    result.replaceChildren(el("p", { className: "error", textContent: `${body.detail}.` }), list);
  }

  function failed(r) {
    if (r.status === 401) return "Please log in again.";
    const detail = r.body && r.body.detail;
    return typeof detail === "string" ? detail : `The server answered ${r.status}.`;
  }

  async function check(chosen) {
    result.replaceChildren();
    if (chosen.size > MAX_IMPORT_BYTES) {
      result.replaceChildren(el("p", { className: "error", textContent: `${chosen.name} is larger than the import limit of ${MAX_IMPORT_BYTES / 1048576} MB.` }));
      return;
    }
    const r = await send(chosen, true);
    if (r.status === 422 && r.body && r.body.problems) { label.textContent = "Not imported"; return problems(r.body); }
    if (r.status !== 200) { label.textContent = ""; return result.replaceChildren(el("p", { className: "error", textContent: failed(r) })); }
    label.textContent = "File checked";
    const b = r.body;
    const go = el("button", { type: "button", id: "kb-import-confirm", className: "danger",
      textContent: `Replace all ${b.current} entries with these ${b.entries}`, onclick: () => apply(chosen) });
    const cancel = el("button", { type: "button", textContent: "Cancel", onclick: () => { result.replaceChildren(); label.textContent = ""; bar.hidden = true; file.value = ""; } });
    result.replaceChildren(
      el("p", { id: "kb-import-summary", textContent: `${chosen.name}: ${b.entries} entries, ${b.variants} variants, no problems.`
        + ` Importing replaces the ${b.current} entries stored now; this cannot be undone (export first to keep them).` }),
      el("div", { className: "actions" }, go, cancel));
  }

  async function apply(chosen) {
    const r = await send(chosen, false);
    if (r.status === 422 && r.body && r.body.problems) return problems(r.body);
    if (r.status !== 200) return result.replaceChildren(el("p", { className: "error", textContent: failed(r) }));
    label.textContent = "Imported";
    result.replaceChildren(el("p", { id: "kb-import-done", textContent: `Imported ${r.body.entries} entries from ${chosen.name}; the bot is rebuilding.` }));
    file.value = "";
    onImported();
  }

  file.addEventListener("change", () => {
    if (file.files.length) check(file.files[0]).catch((e) => result.replaceChildren(el("p", { className: "error", textContent: e.message })));
  });
  return { node };
}

/** Download buttons: the knowledge base as JSONL (complete), CSV or Markdown. */
export function exportButtons({ onError }) {
  const download = async (format) => {
    try {
      const r = await fetch(`/api/admin/kb/export?format=${format}`, { headers: { Authorization: "Bearer " + token() } });
      if (!r.ok) throw new Error(`Export failed (${r.status}).`);
      const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: name ? name[1] : `kb.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) { onError(e); }
  };
  return [el("span", { className: "muted", textContent: "Export:" }),
    ...[["jsonl", "JSONL"], ["csv", "CSV"], ["md", "Markdown"]].map(([f, t]) =>
      el("button", { type: "button", id: `kb-export-${f}`, textContent: t, onclick: () => download(f) }))];
}
