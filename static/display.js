// The reading settings panel. Each control with data-pref="NAME" is mirrored to the
// attribute data-NAME on <html>, where the CSS picks it up, and all of them are saved
// together under one localStorage key, which prefs.js reads before the next first paint.

const KEY = "reader.display";
const root = document.documentElement;

export function initDisplay({ panel, toggle, reset, onChange = () => {} }) {
  const controls = Array.from(panel.querySelectorAll("[data-pref]"));

  const valueOf = (c) => (c.type === "checkbox" ? (c.checked ? c.value : "") : c.value);

  function apply(c) {
    const value = valueOf(c);
    if (value) root.setAttribute(`data-${c.dataset.pref}`, value);
    else root.removeAttribute(`data-${c.dataset.pref}`);
  }

  function sync() {
    for (const c of controls) {
      const value = root.getAttribute(`data-${c.dataset.pref}`) || "";
      if (c.type === "checkbox") c.checked = value === c.value;
      else c.value = Array.from(c.options).some((o) => o.value === value) ? value : "";
    }
  }

  function save() {
    const data = {};
    for (const c of controls) {
      const value = valueOf(c);
      if (value) data[c.dataset.pref] = value;
    }
    try {
      localStorage.setItem(KEY, JSON.stringify(data));
    } catch {
      /* storage off: the settings last as long as the page */
    }
  }

  for (const c of controls) {
    c.addEventListener("change", () => {
      apply(c);
      save();
      onChange(c.dataset.pref);
    });
  }

  reset.addEventListener("click", () => {
    for (const c of controls) {
      if (c.type === "checkbox") c.checked = false;
      else c.value = "";
      apply(c);
    }
    save();
    onChange("all");
  });

  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  });

  // Another tab changed the settings: follow it, so all open texts look the same.
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY) return;
    let saved = {};
    try { saved = JSON.parse(event.newValue || "{}") || {}; } catch { /* keep {} */ }
    for (const c of controls) {
      const allowed = c.type === "checkbox" ? [c.value] : Array.from(c.options, (o) => o.value);
      const value = allowed.includes(saved[c.dataset.pref]) ? saved[c.dataset.pref] : "";
      if (value) root.setAttribute(`data-${c.dataset.pref}`, value);
      else root.removeAttribute(`data-${c.dataset.pref}`);
    }
    sync();
    onChange("all");
  });

  sync();
}
