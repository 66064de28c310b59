// The dictation demo's own setting: start and stop sounds on or off, remembered in this browser.
import { SOUNDS_KEY } from "./dictate-sound.js";

const box = document.getElementById("dictate-sounds");
if (box) {
  try {
    box.checked = localStorage.getItem(SOUNDS_KEY) !== "off";
  } catch { /* storage blocked: the default, on */ }
  box.addEventListener("change", () => {
    try {
      if (box.checked) localStorage.removeItem(SOUNDS_KEY);
      else localStorage.setItem(SOUNDS_KEY, "off");
    } catch { /* not remembered */ }
  });
}
