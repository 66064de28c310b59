// The reader page: a Player (player.js) plays the document sentence after sentence; this
// module shows what it does and binds the controls.
//
// Keyboard model, and why:
// - Sentences are NOT tab stops. A long article would otherwise put hundreds of stops
//   between the player and the rest of the page. Instead:
//   * a click or tap on a sentence reads from there. Screen readers (NVDA, JAWS in
//     browse mode; VoiceOver with VO+Space) turn "activate" on plain text into a click,
//     so the same handler serves them;
//   * with the text caret in a sentence (caret browsing, F7), Enter reads from there;
//   * keyboard-only users can also select some text (Shift+arrows, or find with Ctrl+F,
//     whose match stays selected) and press Play: reading starts at that sentence.
// - Global shortcuts use Alt (Alt+P, Alt+O, Alt+, and Alt+. as in the Read Aloud
//   extension; with Shift for paragraphs; Alt+[ and Alt+] for speed): single keys like
//   Space or K belong to screen readers and to the page. `?` (not in a field) lists them.
// - Focus is never moved by this script, except back to Play when the button that had it
//   disappears (the resume offer, "Back to the current sentence").
// - One polite live region reports changes of state (playing, paused, stopped, finished,
//   errors); the sentence position is shown visually but never announced on every sentence.

import { Choices } from "./choices.js";
import { initDescriptions } from "./described.js";
import { initDisplay } from "./display.js";
import { initSyllables } from "./syllables.js";
import { initForget } from "./forget.js";
import { initDownload } from "./narration.js";
import { Player } from "./player.js";
import { formatDuration, secondsLeft, sentenceAtSelection } from "./positions.js";
import { noteOpened, rememberPosition, savedPosition } from "./resume.js";
import { bindMediaSession, bindShortcuts } from "./shortcuts.js";
import { createFollower, createLineFocus, initHelp } from "./view.js";

const root = document.documentElement;
const $ = (id) => document.getElementById(id);

function init(article) {
  const spans = Array.from(article.querySelectorAll(".sentence"));
  const playButton = $("play-pause");
  const view = new ReaderView({ article, spans, playButton });
  let player = null; // made just below; the choices call back only once it exists
  const choices = new Choices({
    voiceSelect: $("voice"), styleSelect: $("style"), styleSetting: $("style-setting"),
    speedSelect: $("speed"), defaultVoice: article.dataset.defaultVoice, styles: article.dataset.styles,
    onAudio: () => player?.audioChanged(), onRate: () => player?.applyRate(),
  });
  player = new Player({
    article, spans, docId: article.dataset.docId, format: article.dataset.format || "mp3", choices, view,
  });
  view.connect(player, choices);
  noteOpened(article.dataset.docId, {
    title: $("doc-title")?.textContent?.trim() || document.title,
    source: article.dataset.source || "",
    count: spans.length,
  });
  view.state("idle");
  if (!spans.length) {
    for (const id of ["play-pause", "stop", "prev", "next", "prev-block", "next-block"]) $(id).disabled = true;
  }
  player.applyRate();
  $("player").hidden = false;
  $("player-options").hidden = false;
  // Wide screens have room for the voice and speed beside the text; on phones the panel
  // starts closed, so the text starts near the top.
  if (window.matchMedia("(min-width: 48em)").matches) $("player-options").open = true;
  watchPlayerHeight($("player"));
  view.position(false);
  const resumeAt = view.offerResume();
  // ?warm=0 turns the early fetch off (for measuring what it gains: bench/play_latency.py).
  if (new URLSearchParams(location.search).get("warm") !== "0") player.warm(resumeAt ?? 0);
  view.lineFocus.update();
  bindControls({ article, spans, player, view, choices, playButton });
  const syllables = initSyllables({ article, docId: article.dataset.docId });
  syllables.update();
  initDisplay({
    panel: $("display-settings"),
    toggle: $("settings-toggle"),
    reset: $("display-reset"),
    onChange: () => {
      view.lineFocus.update();
      syllables.update();
      if (player.state !== "idle" && spans[player.pos]) view.follower.show(spans[player.pos]);
    },
  });
  initHelp({ dialog: $("help"), openButton: $("help-open"), closeButton: $("help-close") });
  initDownload({ docId: article.dataset.docId, voice: () => choices.voice(), openButton: $("download-open") });
  initForget({ docId: article.dataset.docId, openButton: $("forget-open") });
  window.addEventListener("pagehide", () => player.close());
}

// What the page shows of the player: the state on the button, the highlighted sentence, the
// position and time left, the one live region, and the offer to resume.
class ReaderView {
  constructor({ article, spans, playButton }) {
    Object.assign(this, { article, spans, playButton });
    this.lengths = spans.map((s) => s.textContent.length);
    this.loading = false; // the current sentence's audio is still on its way
    this.announceTimer = 0;
    const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
    this.follower = createFollower({
      player: $("player"), backButton: $("back-to-current"), fallbackFocus: playButton, reduceMotion,
    });
    this.lineFocus = createLineFocus(() => (spans.length && this.player ? spans[this.player.pos] : null));
    this.ruler = createRuler($("reading-ruler"));
  }

  connect(player, choices) {
    this.player = player;
    this.choices = choices;
  }

  state(next) {
    if (next !== "playing") this.loading = false;
    root.dataset.readerState = next;
    $("play-label").textContent = next === "playing" ? "Pause" : "Play";
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = next === "playing" ? "playing" : "paused";
    }
  }

  announce(message) {
    // Clearing first makes a repeated message ("Paused" twice) be spoken again.
    const status = $("status");
    clearTimeout(this.announceTimer);
    status.textContent = "";
    this.announceTimer = setTimeout(() => { status.textContent = message; }, 100);
  }

  position(isLoading) {
    this.loading = isLoading;
    const total = this.spans.length;
    $("position").textContent = `Sentence ${total ? this.player.pos + 1 : 0} of ${total}`;
    $("progress").value = this.player.state === "finished" ? total : this.player.pos;
    this.timeLeft();
  }

  timeLeft() {
    const text = $("time-left");
    if (!this.spans.length || !this.player || this.player.state === "finished") {
      text.textContent = "";
      return;
    }
    if (this.loading) {
      text.textContent = "loading…";
      return;
    }
    const seconds = secondsLeft({
      lengths: this.lengths, durations: this.player.durations, from: this.player.pos,
      currentLeft: this.player.sounding(),
    });
    text.textContent = `about ${formatDuration(seconds / this.choices.rate())} left`;
  }

  highlight(p, { jump = false } = {}) {
    const span = this.spans[p];
    span.classList.add("current");
    span.setAttribute("aria-current", "true");
    this.article.dataset.current = span.dataset.index;
    this.position(false);
    this.follower.show(span, { jump });
    this.lineFocus.update();
    this.ruler.onSentence(span);
    rememberPosition(this.player.docId, span.dataset.index, p);
  }

  unhighlight(p) {
    const span = this.spans[p];
    if (!span) return;
    span.classList.remove("current");
    span.removeAttribute("aria-current");
  }

  finished() {
    this.follower.release();
    this.position(false);
  }

  // "Continue where I stopped": offered once when the document was left part-way. Returns
  // the position offered (or null).
  offerResume() {
    const saved = savedPosition(this.player.docId);
    const p = saved === null ? -1 : this.spans.findIndex((s) => s.dataset.index === String(saved));
    if (p <= 0) return null;
    $("resume-n").textContent = String(p + 1);
    $("resume").hidden = false;
    // The player shows where reading stopped, and Play (or Alt+P) continues from there; the
    // offer is announced once, as the page opens.
    this.player.pos = p;
    this.position(false);
    this.announce(`Last time you stopped at sentence ${p + 1} of ${this.spans.length}. Play continues from there.`);
    $("resume-continue").addEventListener("click", () => {
      this.resumeDone();
      this.announce("Playing.");
      this.player.start(p, { jump: true });
    });
    $("resume-restart").addEventListener("click", () => {
      this.resumeDone();
      this.announce("Playing.");
      this.player.start(0, { jump: true });
    });
    return p;
  }

  resumeDone() {
    const box = $("resume");
    if (box.hidden) return;
    const hadFocus = box.contains(document.activeElement);
    box.hidden = true;
    if (hadFocus) this.playButton.focus(); // the button that had focus is gone
  }
}

function bindControls({ article, spans, player, view, choices, playButton }) {
  article.addEventListener("click", (event) => {
    if (event.target.closest?.("a[href]")) return; // a link in the text goes where it points
    const span = event.target.closest?.(".sentence");
    if (!span) return;
    const sel = document.getSelection();
    if (sel && !sel.isCollapsed) return; // the user is selecting text, not choosing a sentence
    const p = spans.indexOf(span);
    if (p >= 0) player.readFrom(p);
  });
  playButton.addEventListener("click", () => player.toggle());
  $("stop").addEventListener("click", () => player.stop());
  $("prev").addEventListener("click", () => player.step(-1));
  $("next").addEventListener("click", () => player.step(1));
  $("prev-block").addEventListener("click", () => player.stepBlock(-1));
  $("next-block").addEventListener("click", () => player.stepBlock(1));
  const changeSpeed = (delta) => {
    const speed = $("speed").value;
    if (!choices.stepSpeed(delta)) {
      view.announce(`Speed ${speed}× is the ${delta < 0 ? "slowest" : "fastest"}.`);
      return;
    }
    view.announce(`Speed ${$("speed").value}×.`);
  };
  bindShortcuts({
    article, changeSpeed,
    toggle: () => player.toggle(),
    stop: () => player.stop(),
    step: (delta) => player.step(delta),
    stepBlock: (delta) => player.stepBlock(delta),
    readAtCaret: () => {
      const p = sentenceAtSelection(article, spans, true);
      if (p === null) return false;
      player.readFrom(p);
      return true;
    },
  });
  initDescriptions({
    pause: () => { if (player.state === "playing") player.pause(); },
    voice: () => $("voice")?.value,
  });
  bindMediaSession({
    title: $("doc-title")?.textContent ?? document.title,
    play: () => { if (player.state !== "playing") player.play(); },
    pause: () => { if (player.state === "playing") player.pause(); },
    stop: () => player.stop(),
    step: (delta) => player.step(delta),
  });
}

// Keeps --player-height current, so the sticky player never covers the sentence or the
// control being scrolled to (CSS uses it for scroll-padding-top).
function watchPlayerHeight(player) {
  const update = () => root.style.setProperty("--player-height", `${player.offsetHeight}px`);
  update();
  if ("ResizeObserver" in window) new ResizeObserver(update).observe(player);
}

// The reading ruler (a reading setting): a band under the pointer, or, while the pointer is
// still, on the first line of the sentence being read.
function createRuler(band) {
  let pointerAt = 0;
  let sentence = null;
  const on = () => root.dataset.ruler === "on";
  const place = (y) => band.style.setProperty("top", `${Math.round(y)}px`);
  const onLine = () => {
    const line = sentence?.getClientRects()[0];
    if (line) place(line.top + line.height / 2);
  };
  document.addEventListener("pointermove", (event) => {
    if (!on() || event.pointerType === "touch") return;
    pointerAt = performance.now();
    place(event.clientY);
  }, { passive: true });
  window.addEventListener("scroll", () => { if (on() && performance.now() - pointerAt > 2000) onLine(); },
    { passive: true });
  return {
    onSentence(span) {
      sentence = span;
      if (on() && performance.now() - pointerAt > 2000) onLine();
    },
  };
}

// Last: the classes above are not hoisted.
const article = document.querySelector("article[data-doc-id]");
if (article) init(article);
