// The knowledge base section of /admin (issue 14): entries, import/export, "try a question".
import { el } from "../console/dom.js";

export function createKbAdmin({ api, root }) {
  async function load() {
    root.replaceChildren(el("h1", {}, "Knowledge base"));
  }
  return { load };
}
