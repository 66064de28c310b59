// The home page's library: the texts read in this browser (title, source, how far), each with
// open, remove from the list, and forget on the server; and "Clear this list". Focus goes to a
// sensible place when the item that had it is removed; each change is announced once.

import { forgetAll, forgetPosition, recentTexts } from "./resume.js";

const section = document.getElementById("library");
const list = document.getElementById("library-list");
const status = document.getElementById("library-status");

function say(message) {
  status.textContent = "";
  setTimeout(() => { status.textContent = message; }, 100);
}

function progress(text) {
  if (!text.count) return "";
  if (text.index === null && text.done >= text.count) return "finished";
  const done = Math.min(text.done || 0, text.count);
  return `sentence ${done + 1} of ${text.count} (${Math.round((done / text.count) * 100)}%)`;
}

// Icons as in templates/icons.html (Material Design paths, Apache-2.0), beside the words.
const ICONS = {
  close: "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z",
  delete: "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z",
};

function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function button(label, name, onClick, extra = "", iconName = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `button small ${extra}`.trim();
  if (iconName) b.append(icon(iconName));
  b.append(label);
  b.setAttribute("aria-label", `${label}: ${name}`);
  b.addEventListener("click", onClick);
  return b;
}

function removed(item, message) {
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  say(message);
  if (!list.children.length) {
    section.hidden = true;
    document.querySelector("h1")?.focus?.();
    return;
  }
  (next?.querySelector("a") || document.getElementById("library-title")).focus();
}

function render() {
  const texts = recentTexts();
  list.replaceChildren();
  section.hidden = !texts.length;
  for (const text of texts) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/read/${encodeURIComponent(text.id)}`;
    link.textContent = text.title;
    const about = document.createElement("span");
    about.className = "library-about";
    about.textContent = [text.source, progress(text)].filter(Boolean).join(" · ");
    const actions = document.createElement("span");
    actions.className = "library-actions";
    actions.append(
      button("Remove from this list", text.title, () => {
        forgetPosition(text.id);
        removed(item, `Removed “${text.title}” from this list.`);
      }, "", "close"),
      button("Forget on the server", text.title, async () => {
        const response = await fetch(`/api/documents/${encodeURIComponent(text.id)}`, { method: "DELETE" })
          .catch(() => null);
        if (!response || (!response.ok && response.status !== 404)) {
          say("It could not be forgotten: the server did not answer. Please try again.");
          return;
        }
        forgetPosition(text.id);
        removed(item, `“${text.title}” was forgotten on the server and removed from this list.`);
      }, "danger", "delete"),
    );
    item.append(link, about, actions);
    list.append(item);
  }
}

document.getElementById("library-clear")?.addEventListener("click", () => {
  forgetAll();
  render();
  say("The list is cleared. The texts stay on the server until they expire or are forgotten.");
  document.querySelector("h1")?.focus?.();
});

if (section && list) render();
