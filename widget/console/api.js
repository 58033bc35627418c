// The /api/agent REST calls, with the agent's bearer token; a 401 means the login expired.

export function createApi({ token, onUnauthorized }) {
  return async function api(path, opts = {}) {
    const r = await fetch("/api" + path, {
      ...opts,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token(), ...(opts.headers || {}) },
    });
    if (r.status === 401) { onUnauthorized(); throw new Error("Please log in again."); }
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return r.status === 204 ? null : r.json();
  };
}
