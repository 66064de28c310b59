// The listener's choices of voice, speaking style and speed, kept per browser.
//
// Styles are the cloud voices' `instructions` presets: from the article's data-styles when
// the page has them, else from GET /api/voices ("styles": plain names). The style select is
// shown only when the chosen voice takes styles: its engine is listed with the style, or,
// with no engines given, the voice is a cloud ("remote") one. The offline voices take none.

const VOICE_KEY = "reader.voice";
const RATE_KEY = "reader.rate";
const STYLE_KEY = "reader.style";

export class Choices {
  // onAudio(): voice or style changed (new audio needed); onRate(): speed changed (not).
  constructor({ voiceSelect, styleSelect, styleSetting, speedSelect, defaultVoice, styles, onAudio, onRate }) {
    Object.assign(this, { voiceSelect, styleSelect, styleSetting, speedSelect, defaultVoice, onAudio, onRate });
    this.styles = parseStyles(styles);
    this.remoteEngines = new Set();
    restore(voiceSelect, read(VOICE_KEY));
    restore(speedSelect, read(RATE_KEY));
    this.fillStyles();
    this.loadStyles();

    voiceSelect.addEventListener("change", () => {
      store(VOICE_KEY, voiceSelect.value);
      this.fillStyles();
      this.onAudio();
    });
    styleSelect.addEventListener("change", () => {
      store(STYLE_KEY, styleSelect.value);
      this.onAudio();
    });
    speedSelect.addEventListener("change", () => {
      store(RATE_KEY, speedSelect.value);
      this.onRate();
    });
  }

  voice() {
    return this.voiceSelect.value || this.defaultVoice || "";
  }

  style() {
    return this.styleSetting.hidden ? "" : this.styleSelect.value;
  }

  // A cloud voice: the server synthesises ahead in parallel (bounded per deployment).
  isRemote() {
    return this.voiceSelect.selectedOptions[0]?.dataset.remote === "true";
  }

  rate() {
    return Number(this.speedSelect.value) || 1;
  }

  // What the audio depends on: cached audio for another key is stale.
  key() {
    return `${this.voice()}|${this.style()}`;
  }

  // One step slower (-1) or faster (+1); false at either end.
  stepSpeed(delta) {
    const i = this.speedSelect.selectedIndex + delta;
    if (i < 0 || i >= this.speedSelect.options.length) return false;
    this.speedSelect.selectedIndex = i;
    store(RATE_KEY, this.speedSelect.value);
    this.onRate();
    return true;
  }

  async loadStyles() {
    if (this.styles.length) return;
    try {
      const response = await fetch("/api/voices");
      if (!response.ok) return;
      const body = await response.json();
      this.styles = parseStyles(JSON.stringify(body.styles || []));
      this.remoteEngines = new Set((body.voices || []).filter((v) => v.remote).map((v) => v.engine));
      if (this.styles.length) this.fillStyles();
    } catch {
      /* no styles: the select stays hidden */
    }
  }

  fillStyles() {
    const engine = this.voice().split(":")[0];
    const offered = this.styles.filter((s) => (s.engines ? s.engines.includes(engine) : this.remoteEngines.has(engine)));
    const previous = this.styleSelect.value || read(STYLE_KEY) || "";
    this.styleSelect.replaceChildren(new Option("Default", ""),
      ...offered.map((s) => new Option(s.label, s.id)));
    this.styleSelect.value = offered.some((s) => s.id === previous) ? previous : "";
    this.styleSetting.hidden = offered.length === 0;
  }
}

// [{id, label?, engines?}] or ["calm", ...] -> [{id, label, engines | null}]
function parseStyles(raw) {
  try {
    const list = JSON.parse(raw || "[]");
    if (!Array.isArray(list)) return [];
    return list
      .map((s) => (typeof s === "string" ? { id: s, label: s.charAt(0).toUpperCase() + s.slice(1) } : s))
      .filter((s) => s && typeof s.id === "string" && s.id)
      .map((s) => ({ id: s.id, label: String(s.label || s.id),
        engines: Array.isArray(s.engines) ? s.engines : null }));
  } catch {
    return [];
  }
}

function restore(select, value) {
  if (value && Array.from(select.options).some((o) => o.value === value)) select.value = value;
}

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage off: the choice lasts this page */ }
}
