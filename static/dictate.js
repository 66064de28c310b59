// dictate.js: voice dictation for any form, served by a Reader server.
//
//   <link rel="stylesheet" href="https://reader.example/static/dictate.css">
//   <script type="module" src="https://reader.example/static/dictate.js"></script>
//   <textarea data-dictate></textarea>           one field
//   <form data-dictate-all> ... </form>          every text field inside (data-dictate="off" opts out)
//
// Each field gets a labelled "Dictate" button (tap to start and tap to stop, or hold it
// down while speaking), a level meter, a "Read back" button and, once dictation has changed
// the field, "Undo". The recording (MediaRecorder: webm/opus, else mp4) goes to the Reader
// server it came from (found from this module's own URL, so another site only needs
// READER_CORS_ORIGINS to list it): while recording, again and again, for the words heard so
// far (dictate-live.js, shown under the field); on stop, whole, for the text, which is
// inserted at the caret, replacing any selection. Start and stop are told by short sounds
// (dictate-sound.js) rather than by speech a microphone would hear. Refused or missing
// microphones, silence and server errors leave the field untouched and say why.
// Focus stays where the user put it; one polite live region tells the state.
// dictate-record.js records; dictate-text.js turns the words into the field's text (spoken
// commands, email, phone and number fields, names); dictate-edit.js changes the field.

import { openMicrophone, problem, Recording, UNREACHABLE } from "./dictate-record.js";
import { FieldEditor } from "./dictate-edit.js";
import { LiveText, transcribeWhole } from "./dictate-live.js";
import { earcon, soundsOn } from "./dictate-sound.js";
import { fieldKind, speakable } from "./dictate-text.js";

const SERVER = new URL("../", import.meta.url); // /static/dictate.js -> the server root
const LIVE_URL = new URL("api/transcriptions/live", SERVER);
const SPEECH_URL = new URL("api/speech", SERVER);
const HOLD_MS = 450; // pressed longer than this: push-to-talk, released = stop
const FIELD_SELECTOR = "textarea, input";
const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "number"]);
const widgets = new WeakMap(); // field -> its Widget
let live = null;
let liveTimer = 0;
let uid = 0;
let recording = null; // the one widget recording at a time

function announce(message) {
  if (!live) {
    live = document.createElement("div");
    live.className = "dictate-visually-hidden";
    live.setAttribute("role", "status");
    document.body.append(live);
  }
  clearTimeout(liveTimer);
  live.textContent = "";
  liveTimer = setTimeout(() => { live.textContent = message; }, 100);
}

function ensureStyles() {
  const href = new URL("dictate.css", import.meta.url).href;
  const present = Array.from(document.querySelectorAll('link[rel~="stylesheet"]'))
    .some((l) => l.href === href || /\/dictate\.css(\?|$)/.test(l.href));
  if (present) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

function eligible(field) {
  if (widgets.has(field) || field.dataset.dictate === "off") return false;
  if (field.disabled || field.readOnly || field.type === "hidden") return false;
  if (field.tagName === "TEXTAREA") return true;
  return field.tagName === "INPUT" && TEXT_TYPES.has((field.getAttribute("type") || "").toLowerCase());
}

/** Adds dictation to the fields under `root` marked data-dictate, or inside data-dictate-all. */
export function enableDictation(root = document) {
  const fields = new Set(root.querySelectorAll("[data-dictate]:not([data-dictate='off'])"));
  for (const scope of root.querySelectorAll("[data-dictate-all]")) {
    for (const f of scope.querySelectorAll(FIELD_SELECTOR)) fields.add(f);
  }
  if (root instanceof Element && root.closest("[data-dictate-all]")) {
    for (const f of root.querySelectorAll(FIELD_SELECTOR)) fields.add(f);
  }
  let added = 0;
  for (const field of fields) {
    if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) continue;
    if (!eligible(field)) continue;
    widgets.set(field, new Widget(field));
    added++;
  }
  if (added) ensureStyles();
  return added;
}

/** The dictation of one field, for scripts: `.apply(transcript)` acts as if it was spoken. */
export function dictationFor(field) {
  return widgets.get(field) ?? null;
}

function labelOf(field) {
  const text = field.getAttribute("aria-label")
    || field.labels?.[0]?.textContent
    || field.getAttribute("placeholder")
    || field.name
    || "this field";
  return text.replace(/\([^)]*\)/g, "").replace(/\s+/g, " ").trim();
}

function svg(path) {
  const ns = "http://www.w3.org/2000/svg";
  const el = document.createElementNS(ns, "svg");
  el.setAttribute("viewBox", "0 0 24 24");
  el.setAttribute("aria-hidden", "true");
  el.setAttribute("focusable", "false");
  el.setAttribute("class", "dictate-icon");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", path);
  el.append(p);
  return el;
}

const MIC = "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z";
const UNDO = "M12.5 8c-2.65 0-5.05 1-6.9 2.6L2 7v9h9l-3.62-3.62A8 8 0 0 1 20.1 16l2.37-.78A10.5 10.5 0 0 0 12.5 8z";
const SPEAKER = "M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z";

function button(className, icon, text, name) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `dictate-button ${className}`;
  const label = document.createElement("span");
  b.append(svg(icon), label);
  // The visible word starts the name (WCAG 2.5.3); the field's label completes it.
  b.setLabel = (word) => {
    label.textContent = word;
    b.setAttribute("aria-label", `${word}: ${name}`);
  };
  b.setLabel(text);
  return b;
}

class Widget {
  constructor(field) {
    this.field = field;
    this.kind = fieldKind(field).kind;
    this.name = labelOf(field);
    this.state = "idle";
    this.editor = new FieldEditor(field, this.kind, {
      done: (message, announcement) => {
        this.say(message);
        announce(announcement.replace("{field}", this.name));
        this.showUndo();
      },
      fail: (message) => { this.fail(message); this.showUndo(); },
    });
    this.pressedAt = 0;
    this.handledAt = 0;
    this.stopWhenStarted = false;

    const id = `dictate-${++uid}`;
    this.box = document.createElement("div");
    this.box.className = "dictate-controls";
    this.mic = button("dictate-mic", MIC, "Dictate", this.name);
    this.mic.setAttribute("aria-pressed", "false");
    this.read = button("dictate-read", SPEAKER, "Read back", this.name);
    this.undo = button("dictate-undo", UNDO, "Undo", this.name);
    this.undo.hidden = true; // shown once dictation has changed the field
    this.meter = document.createElement("span");
    this.meter.className = "dictate-meter";
    this.meter.setAttribute("aria-hidden", "true");
    this.meter.hidden = true;
    this.level = document.createElement("span");
    this.level.className = "dictate-level";
    this.meter.append(this.level);
    this.message = document.createElement("span");
    this.message.className = "dictate-message";
    this.message.id = `${id}-message`;
    this.mic.setAttribute("aria-describedby", this.message.id);
    this.read.setAttribute("aria-describedby", this.message.id);
    this.undo.setAttribute("aria-describedby", this.message.id);
    // What has been heard so far, while recording: words two passes agreed on, then the
    // tentative rest. Not a live region: a screen reader stays quiet while the user speaks.
    this.preview = document.createElement("p");
    this.preview.className = "dictate-live";
    this.preview.hidden = true;
    this.settledText = document.createElement("span");
    this.settledText.className = "dictate-live-settled";
    this.tentativeText = document.createElement("span");
    this.tentativeText.className = "dictate-live-tentative";
    this.preview.append(this.settledText, " ", this.tentativeText);
    this.box.append(this.mic, this.read, this.undo, this.meter, this.message, this.preview);
    const anchor = field.closest("label") || field;
    anchor.insertAdjacentElement("afterend", this.box);

    this.bindPress();
    this.read.addEventListener("click", () => this.readBack());
    this.undo.addEventListener("click", () => {
      if (this.state === "idle") this.editor.undo();
    });
  }

  showUndo() {
    const can = this.editor.canUndo();
    // Focus never falls to the page: a focused Undo that has nothing left stays, disabled.
    if (!can && document.activeElement === this.undo) this.undo.setAttribute("aria-disabled", "true");
    else if (can) { this.undo.hidden = false; this.undo.removeAttribute("aria-disabled"); }
    else this.undo.hidden = true;
  }

  showLive({ settled, tentative }) {
    this.settledText.textContent = settled;
    this.tentativeText.textContent = tentative;
    this.preview.hidden = !(settled || tentative);
  }

  hideLive() {
    this.showLive({ settled: "", tentative: "" });
  }

  // ---- tap to toggle, hold to talk ------------------------------------------------------

  bindPress() {
    const b = this.mic;
    b.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      b.setPointerCapture?.(e.pointerId);
      this.pressStart();
    });
    b.addEventListener("pointerup", () => this.pressEnd());
    b.addEventListener("pointercancel", () => this.pressEnd());
    b.addEventListener("keydown", (e) => {
      if (e.key !== " " && e.key !== "Enter") return;
      e.preventDefault();
      if (!e.repeat) this.pressStart();
    });
    b.addEventListener("keyup", (e) => {
      if (e.key !== " " && e.key !== "Enter") return;
      e.preventDefault();
      this.pressEnd();
    });
    // Screen readers and voice control send a bare click: that is a tap.
    b.addEventListener("click", (e) => {
      e.preventDefault();
      if (performance.now() - this.handledAt < 1000) return;
      this.pressStart();
      this.pressEnd();
    });
  }

  pressStart() {
    this.handledAt = performance.now();
    if (this.state === "recording" || this.state === "starting") {
      this.pressedAt = 0;
      this.stop({ cancel: this.state === "starting" });
      return;
    }
    if (this.state !== "idle") return; // transcribing or reading back: wait
    this.pressedAt = performance.now();
    this.start();
  }

  pressEnd() {
    this.handledAt = performance.now();
    const held = this.pressedAt && performance.now() - this.pressedAt > HOLD_MS;
    this.pressedAt = 0;
    if (held) this.stop();
  }

  // ---- recording ---------------------------------------------------------------------------

  async start() {
    if (recording && recording !== this) recording.stop();
    this.setState("starting");
    this.stopWhenStarted = false;
    this.say("Starting the microphone…");
    let stream;
    try {
      stream = await openMicrophone();
      if (this.state !== "starting") { // cancelled while the browser asked for permission
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      // The start sound ends before recording begins: it is not in the recording.
      if (soundsOn(this.field)) await earcon("start");
      this.session = new Recording(stream, {
        // CSSOM, not a style attribute: a strict Content-Security-Policy allows it.
        onLevel: (level) => { this.level.style.transform = `scaleX(${level.toFixed(3)})`; },
        autoStop: () => this.stop(),
        held: () => this.pressedAt > 0,
      });
    } catch (err) {
      this.setState("idle");
      this.fail(err.message);
      return;
    }
    recording = this;
    this.meter.hidden = false;
    this.setState("recording");
    this.say("Recording. Press Dictate again to stop.");
    // With sounds on, the start sound says it: a spoken announcement would be recorded too.
    if (!soundsOn(this.field)) announce(`Recording for ${this.name}. Speak, then press Dictate again to stop.`);
    if (liveOn(this.field)) {
      this.live = new LiveText({ url: LIVE_URL, language: languageOf(this.field),
        show: (heard) => this.showLive(heard) });
      this.live.start(() => this.session?.snapshot());
    }
    if (this.stopWhenStarted) this.stop();
  }

  async stop({ cancel = false } = {}) {
    if (this.state === "starting") {
      this.stopWhenStarted = true;
      if (cancel) { this.setState("idle"); this.say(""); }
      return;
    }
    if (this.state !== "recording" || !this.session) return;
    this.setState("transcribing");
    const live = this.live;
    this.live = null;
    const result = await this.session.stop({ cancel });
    this.session = null;
    await live?.stop(); // its pass under way would hold this client's slot
    if (soundsOn(this.field)) earcon("stop");
    this.meter.hidden = true;
    this.level.style.transform = "scaleX(0)";
    if (recording === this) recording = null;
    if (result.cancelled) {
      this.setState("idle");
      this.hideLive();
      this.say("Cancelled. Nothing was changed.");
      announce("Dictation cancelled.");
      return;
    }
    if (!result.heard) {
      this.setState("idle");
      this.hideLive();
      this.fail("No sound came from the microphone. Check that it is switched on and not muted, then try again.");
      return;
    }
    this.say("Writing down what you said…");
    if (!soundsOn(this.field)) announce("Recording stopped. Transcribing.");
    let text;
    try {
      text = await transcribeWhole(LIVE_URL, result, languageOf(this.field),
        (heard) => {
          // The final words as they come, once they say more than the live passes did.
          if (heard.length >= this.preview.textContent.trim().length) this.showLive({ settled: "", tentative: heard });
        }, this.kind);
    } catch (err) {
      this.setState("idle");
      this.hideLive();
      this.fail(err.message);
      return;
    }
    this.setState("idle");
    this.hideLive();
    this.apply(text);
  }

  // ---- changing the field (dictate-edit.js) ---------------------------------------------

  apply(transcript) {
    return this.editor.apply(transcript);
  }

  // ---- read back -------------------------------------------------------------------------

  async readBack() {
    if (this.player) {
      this.stopReading();
      return;
    }
    const value = this.field.value.trim();
    if (!value) {
      this.say("The field is empty.");
      announce(`${this.name} is empty.`);
      return;
    }
    if (this.state !== "idle") return;
    this.setState("reading");
    this.say("Reading back…");
    try {
      const response = await fetch(SPEECH_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: speakable(value, this.kind) }),
        credentials: "omit",
      });
      if (!response.ok) throw new Error(await problem(response));
      const url = URL.createObjectURL(await response.blob());
      this.player = new Audio(url);
      this.player.addEventListener("ended", () => this.stopReading(""));
      this.player.addEventListener("error", () => this.stopReading("The audio could not be played."));
      await this.player.play();
      this.read.setLabel("Stop reading");
    } catch (err) {
      this.stopReading(err instanceof TypeError ? UNREACHABLE : `Could not read back: ${err.message}`);
    }
  }

  stopReading(message = "") {
    if (this.player) {
      this.player.pause();
      URL.revokeObjectURL(this.player.src);
      this.player = null;
    }
    this.read.setLabel("Read back");
    if (this.state === "reading") this.setState("idle");
    if (message) this.fail(message);
    else this.say("");
  }

  // ---- state and messages -------------------------------------------------------------------

  setState(state) {
    this.state = state;
    this.box.dataset.state = state;
    this.mic.setAttribute("aria-pressed", String(state === "recording" || state === "starting"));
    const busy = state === "transcribing";
    if (busy) this.mic.setAttribute("aria-disabled", "true");
    else this.mic.removeAttribute("aria-disabled");
  }

  say(text) {
    this.message.textContent = text;
    delete this.message.dataset.kind;
  }

  fail(text) {
    this.message.textContent = text;
    this.message.dataset.kind = "error";
    announce(`${this.name}: ${text}`);
  }
}

// Live passes while recording, unless the field or a container says data-dictate-live="off".
function liveOn(field) {
  return field.closest("[data-dictate-live]")?.getAttribute("data-dictate-live") !== "off";
}

// The field's language for the transcriber ("en" from lang="en-GB"), if the page says.
function languageOf(field) {
  const lang = field.closest("[lang]")?.getAttribute("lang");
  return lang && /^[a-z]{2,3}(-|$)/i.test(lang) ? lang.split("-")[0].toLowerCase() : "";
}

// Escape cancels a recording without changing the field.
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && recording) {
    recording.stop({ cancel: true });
  }
});

function boot() {
  enableDictation(document);
  // Fields added later (single-page apps) get dictation too.
  let pending = 0;
  new MutationObserver(() => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => enableDictation(document));
  }).observe(document.body, { childList: true, subtree: true });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
