// "Profile": an agent's own display name, picture and password (issue 14). The dialog is built
// here; console.html only has its opening button. Uses PATCH /api/agent/me, PUT and DELETE
// /api/agent/me/avatar (the picture itself as the body) and POST /api/agent/me/password.
import { $, el } from "./dom.js";

export const AVATAR_MAX_BYTES = 1024 * 1024; // the server's limit (handoff/avatars.py)
export const AVATAR_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/** Only a picture this server stores (handoff/avatars.py): never a URL from elsewhere. */
export const ownAvatar = (url) => typeof url === "string" && /^\/api\/agents\/\d+\/avatar(\?|$)/.test(url);

/** Why a picture cannot be uploaded, or null if it may be (the server checks it again). */
export function avatarProblem(file) {
  if (!file) return "Choose a picture first.";
  if (!AVATAR_TYPES.includes(file.type)) return "Choose a PNG, JPEG, WebP or GIF picture.";
  if (file.size > AVATAR_MAX_BYTES) return "That picture is over 1 MB.";
  return null;
}

export function createProfile({ api, auth, onChanged }) {
  const status = el("p", { className: "muted", role: "status", id: "my-profile-status" });
  const error = el("p", { className: "error", role: "alert", id: "my-profile-error" });
  const preview = el("span", { className: "my-avatar" });
  const file = el("input", { type: "file", id: "my-avatar-file", accept: AVATAR_TYPES.join(","), ariaLabel: "Picture" });
  const removeBtn = el("button", { type: "button", id: "my-avatar-remove" }, "Remove picture");
  const name = el("input", { id: "my-name", required: true, maxLength: 200, ariaLabel: "Display name" });
  const current = el("input", { type: "password", id: "my-current-password", required: true, autocomplete: "current-password" });
  const fresh = el("input", { type: "password", id: "my-new-password", required: true, minLength: 8, autocomplete: "new-password" });
  const again = el("input", { type: "password", id: "my-new-password-again", required: true, minLength: 8, autocomplete: "new-password" });

  const nameForm = el("form", { id: "my-name-form" },
    el("label", {}, "Display name ", name), el("button", { type: "submit" }, "Save name"));
  const passwordForm = el("form", { id: "my-password-form" },
    el("label", {}, "Current password ", current),
    el("label", {}, "New password ", fresh),
    el("label", {}, "New password again ", again),
    el("button", { type: "submit" }, "Change password"));
  const node = el("dialog", { id: "my-profile", ariaLabel: "My profile" },
    el("h2", {}, "My profile"),
    el("div", { className: "my-avatar-row" }, preview,
      el("label", {}, "Picture (PNG, JPEG, WebP or GIF, up to 1 MB) ", file), removeBtn),
    nameForm, passwordForm, status, error,
    el("div", { className: "actions" }, el("button", { type: "button", id: "my-profile-close", onclick: () => node.close() }, "Close")));
  document.body.append(node);

  function say(text) { status.textContent = text; error.textContent = ""; }
  function fail(e) { status.textContent = ""; error.textContent = e.message || String(e); }

  function show(me) {
    auth.me = { ...auth.me, ...me };
    name.value = me.name;
    const initials = me.name.split(/\s+/).map((p) => p[0] || "").join("").slice(0, 2).toUpperCase();
    preview.replaceChildren(ownAvatar(me.avatar_url) ? el("img", { src: me.avatar_url, alt: "My picture" }) : el("span", {}, initials));
    removeBtn.hidden = !me.avatar_url;
    onChanged(auth.me);
  }

  async function run(work, done) {
    try { show(await work()); say(done); } catch (e) { fail(e); }
  }

  file.onchange = () => {
    const picked = file.files[0];
    const problem = avatarProblem(picked);
    if (problem) { file.value = ""; fail(new Error(problem)); return; }
    run(() => api("/agent/me/avatar", { method: "PUT", body: picked, headers: { "Content-Type": picked.type } }), "Picture saved.")
      .then(() => { file.value = ""; });
  };
  removeBtn.onclick = () => run(() => api("/agent/me/avatar", { method: "DELETE" }), "Picture removed.");
  nameForm.onsubmit = (e) => {
    e.preventDefault();
    run(() => api("/agent/me", { method: "PATCH", body: JSON.stringify({ name: name.value }) }), "Name saved.");
  };
  passwordForm.onsubmit = async (e) => {
    e.preventDefault();
    if (fresh.value !== again.value) { fail(new Error("The new passwords differ.")); return; }
    try {
      await api("/agent/me/password", { method: "POST", body: JSON.stringify({ current_password: current.value, new_password: fresh.value }) });
      passwordForm.reset();
      say("Password changed.");
    } catch (err) { fail(err); }
  };

  async function open() {
    status.textContent = ""; error.textContent = "";
    show(await api("/agent/me"));
    node.showModal();
  }
  $("profile-open").onclick = () => open().catch(fail);
  return { open, close: () => node.close() };
}
