// Applies the saved display settings (theme, font, text size, spacing, tint, highlight,
// line focus, ruler, study mode) to
// <html> as data-* attributes before the first paint. A classic, blocking script on
// purpose: a module runs only after parsing, and a dark-theme reader would see a white
// flash. display.js writes the same key; the CSS does the rest.
(function () {
  "use strict";
  var ALLOWED = {
    "theme": ["light", "dark", "contrast"],
    "font": ["system", "serif", "hyperlegible", "dyslexic"],
    "text-size": ["125", "150", "175", "200", "250", "300"],
    "line-spacing": ["relaxed", "loose", "xloose"],
    "letter-spacing": ["wide", "wider"],
    "line-focus": ["on"],
    "word-spacing": ["wide", "wider"],
    "tint": ["cream", "blue", "green", "grey"],
    "highlight": ["underline", "box"],
    "highlight-colour": ["blue", "green", "pink"],
    "ruler": ["on"],
    "study": ["on"],
    "syllables": ["on"]
  };
  var saved = {};
  try {
    saved = JSON.parse(window.localStorage.getItem("reader.display") || "{}") || {};
  } catch (e) {
    return; // storage off or garbled: the defaults hold
  }
  for (var name in ALLOWED) {
    if (ALLOWED[name].indexOf(saved[name]) >= 0) {
      document.documentElement.setAttribute("data-" + name, saved[name]);
    }
  }
})();
