// The reader's keys and the system's media keys.
//
// Alt+letter and Alt+punctuation, as the Read Aloud extension does: single keys such as
// Space or K belong to screen readers (browse mode) and to the page. event.code, not
// event.key: on macOS Option+P types "π". `?` (help) is handled in view.js.

import { isEditable } from "./view.js";

export function bindShortcuts({ article, toggle, stop, step, stepBlock, changeSpeed, readAtCaret }) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    if (!event.altKey) {
      // Enter with the text caret in a sentence (caret browsing) reads from there.
      if (event.key !== "Enter" || event.shiftKey || isEditable(event.target)) return;
      if (event.target !== document.body && !article.contains(event.target)) return;
      if (readAtCaret()) event.preventDefault();
      return;
    }
    const shift = event.shiftKey;
    const actions = {
      KeyP: () => { if (!event.repeat) toggle(); },
      KeyO: () => stop(),
      Comma: () => (shift ? stepBlock(-1) : step(-1)),
      Period: () => (shift ? stepBlock(1) : step(1)),
      BracketLeft: () => changeSpeed(-1),
      BracketRight: () => changeSpeed(1),
    };
    const action = actions[event.code];
    if (!action || (shift && !["Comma", "Period"].includes(event.code))) return;
    event.preventDefault();
    action();
  });
}

// Headset buttons, the lock screen and the system media keys.
export function bindMediaSession({ title, play, pause, stop, step }) {
  if (!("mediaSession" in navigator)) return;
  if ("MediaMetadata" in window) {
    navigator.mediaSession.metadata = new MediaMetadata({ title, artist: "Reader" });
  }
  const handlers = { play, pause, stop, previoustrack: () => step(-1), nexttrack: () => step(1) };
  for (const [action, handler] of Object.entries(handlers)) {
    try { navigator.mediaSession.setActionHandler(action, handler); } catch { /* unsupported */ }
  }
}
