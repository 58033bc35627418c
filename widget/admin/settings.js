// The hours and widget section of /admin (issue 14): business hours, holidays, the widget's look.
import { el } from "../console/dom.js";

export function createSettingsAdmin({ api, root }) {
  async function load() {
    root.replaceChildren(el("h1", {}, "Hours & widget"));
  }
  return { load };
}
