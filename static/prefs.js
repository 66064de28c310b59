// Applies the saved display settings (theme, font, text size, spacing, tint, highlight,
// line focus, ruler, study mode) to <html> as data-* attributes before the first paint. A
// classic, blocking script on purpose: a module runs only after parsing, and a dark-theme
// reader would see a white flash. display.js writes the same key from the settings panel,
// whose controls are the one list of names and values; the CSS does the rest. Here only the
// shape is checked (a short lower-case word or number each), so a value the CSS does not know does nothing.
(function () {
  "use strict";
  var NAME = /^[a-z][a-z0-9-]{0,23}$/;
  var VALUE = /^[a-z0-9][a-z0-9-]{0,23}$/;
  var saved = {};
  try {
    saved = JSON.parse(window.localStorage.getItem("reader.display") || "{}") || {};
  } catch (e) {
    return; // storage off or garbled: the defaults hold
  }
  if (typeof saved !== "object" || Array.isArray(saved)) return;
  for (var name in saved) {
    if (Object.prototype.hasOwnProperty.call(saved, name) && NAME.test(name)
        && typeof saved[name] === "string" && VALUE.test(saved[name])) {
      document.documentElement.setAttribute("data-" + name, saved[name]);
    }
  }
})();
