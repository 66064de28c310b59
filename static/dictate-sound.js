// Earcons for dictate.js: a short rising pair of tones before recording starts and a falling
// pair when it stops, so that a screen reader need not say "recording" out loud (its speech
// would be recorded through loudspeakers). Made with Web Audio: no files to load.
//
// On by default; off where the field or a container says data-dictate-sounds="off", or where
// the user switched them off (localStorage "reader.dictate.sounds" = "off", set by the page's
// own setting, e.g. the checkbox on /dictate).

export const SOUNDS_KEY = "reader.dictate.sounds";
const TONES = { start: [660, 880], stop: [880, 660] };
const TONE_S = 0.07;
const GAP_S = 0.03;
let context = null;

export function soundsOn(field) {
  if (field?.closest("[data-dictate-sounds]")?.getAttribute("data-dictate-sounds") === "off") return false;
  try {
    return localStorage.getItem(SOUNDS_KEY) !== "off";
  } catch {
    return true; // storage blocked: the default
  }
}

/** Plays the earcon `kind` ("start" or "stop"); resolves when it has finished. */
export function earcon(kind) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return Promise.resolve();
  try {
    context ??= new Ctx();
    if (context.state !== "running") context.resume().catch(() => {});
    const at = context.currentTime + 0.01;
    TONES[kind].forEach((frequency, i) => {
      const start = at + i * (TONE_S + GAP_S);
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      // A soft attack and release: no click at either end.
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.25, start + 0.01);
      gain.gain.setValueAtTime(0.25, start + TONE_S - 0.02);
      gain.gain.linearRampToValueAtTime(0, start + TONE_S);
      osc.connect(gain).connect(context.destination);
      osc.start(start);
      osc.stop(start + TONE_S);
    });
  } catch {
    return Promise.resolve();
  }
  const ms = (TONES[kind].length * (TONE_S + GAP_S) + 0.02) * 1000;
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}
