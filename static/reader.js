// The reader page: plays a document sentence after sentence and highlights what is read.
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
//
// Audio: two Audio elements ("decks"). The current sentence and the next PREFETCH ones are
// fetched into Blob object URLs; while one deck plays, the next sentence is already loaded
// and decoded in the other, so on "ended" it starts at once: no gap, no clipped first word.
// URLs outside that window are revoked. A sentence that fails is retried once, then
// skipped with a notice. Speed is the elements' playbackRate (pitch preserved): a speed
// change never asks the server for new audio.

import { Choices } from "./choices.js";
import { initDisplay } from "./display.js";
import { blockStart, blockStep, formatDuration, secondsLeft, sentenceAtSelection } from "./positions.js";
import { forgetPosition, rememberPosition, savedPosition } from "./resume.js";
import { SentenceAudio } from "./sentence-audio.js";
import { bindMediaSession, bindShortcuts } from "./shortcuts.js";
import { createFollower, createLineFocus, initHelp } from "./view.js";
import { AudioWake } from "./wake.js";
import { WordHighlighter } from "./words.js";

const PREFETCH = 3; // sentences fetched ahead of the one playing
const MAX_FAILURES_IN_A_ROW = 3; // then stop instead of skipping through a dead server

const root = document.documentElement;
const article = document.querySelector("article[data-doc-id]");
if (article) init(article);

function init(article) {
  const $ = (id) => document.getElementById(id);
  const docId = article.dataset.docId;
  const format = article.dataset.format || "mp3";
  const spans = Array.from(article.querySelectorAll(".sentence"));
  const lengths = spans.map((s) => s.textContent.length);
  const player = $("player");
  const playButton = $("play-pause");
  const playLabel = $("play-label");
  const speedSelect = $("speed");
  const position = $("position");
  const timeLeftText = $("time-left");
  const progress = $("progress");
  const status = $("status");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  const decks = [new Audio(), new Audio()];
  const deckPos = [-1, -1]; // the sentence loaded in each deck
  let active = 0;
  for (const deck of decks) {
    deck.preload = "auto";
    deck.preservesPitch = true;
  }

  // pos: position in `spans` (document order); the API wants the sentence's data-index.
  let pos = 0;
  let readerState = "idle";
  let token = 0; // bumped whenever what should be playing changes; stale work checks it
  let retried = false; // the current sentence has had its one retry
  let failures = 0;
  let loading = false; // the current sentence's audio is still on its way
  let announceTimer = 0;
  const audio = new SentenceAudio({
    urlFor: apiUrl,
    key: () => choices.key(),
    inDeck: (url) => decks.some((d) => d.src === url),
    onDrop: (p) => { for (const i of [0, 1]) if (deckPos[i] === p) deckPos[i] = -1; },
    onFallback: () => announce("The chosen voice is not available now: reading with the offline voice."),
  });
  const durations = audio.durations;
  const words = new WordHighlighter(() => decks[active].currentTime);
  const wake = new AudioWake();

  const follower = createFollower({
    player, backButton: $("back-to-current"), fallbackFocus: playButton, reduceMotion,
  });
  const lineFocus = createLineFocus(() => (spans.length ? spans[pos] : null));

  setState("idle");
  if (!spans.length) {
    for (const id of ["play-pause", "stop", "prev", "next", "prev-block", "next-block"]) {
      $(id).disabled = true;
    }
  }
  const choices = new Choices({
    voiceSelect: $("voice"), styleSelect: $("style"), styleSetting: $("style-setting"),
    speedSelect, defaultVoice: article.dataset.defaultVoice, styles: article.dataset.styles,
    onAudio: audioChanged, onRate: applyRate,
  });
  applyRate();
  player.hidden = false;
  $("player-options").hidden = false;
  watchPlayerHeight(player);
  showPosition();
  offerResume();
  lineFocus.update();

  // ---- state and display ----------------------------------------------------------

  function setState(next) {
    readerState = next;
    if (next !== "playing") loading = false;
    root.dataset.readerState = next;
    playLabel.textContent = next === "playing" ? "Pause" : "Play";
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = next === "playing" ? "playing" : "paused";
    }
  }

  function announce(message) {
    // Clearing first makes a repeated message ("Paused" twice) be spoken again.
    clearTimeout(announceTimer);
    status.textContent = "";
    announceTimer = setTimeout(() => { status.textContent = message; }, 100);
  }

  function showPosition(isLoading = false) {
    loading = isLoading;
    const n = spans.length ? pos + 1 : 0;
    position.textContent = `Sentence ${n} of ${spans.length}`;
    progress.value = readerState === "finished" ? spans.length : pos;
    showTimeLeft();
  }

  function showTimeLeft() {
    if (!spans.length || readerState === "finished") {
      timeLeftText.textContent = "";
      return;
    }
    if (loading) {
      timeLeftText.textContent = "loading…";
      return;
    }
    const deck = decks[active];
    const sounding = deckPos[active] === pos && Number.isFinite(deck.duration) && readerState !== "stopped";
    const seconds = secondsLeft({
      lengths, durations, from: pos,
      currentLeft: sounding ? Math.max(0, deck.duration - deck.currentTime) : null,
    });
    timeLeftText.textContent = `about ${formatDuration(seconds / choices.rate())} left`;
  }

  function highlight(next, { jump = false } = {}) {
    if (spans[pos] && pos !== next) clearHighlight();
    pos = next;
    const span = spans[pos];
    span.classList.add("current");
    span.setAttribute("aria-current", "true");
    article.dataset.current = span.dataset.index;
    showPosition();
    follower.show(span, { jump });
    lineFocus.update();
    rememberPosition(docId, span.dataset.index);
  }

  function clearHighlight() {
    const span = spans[pos];
    if (!span) return;
    words.stop();
    span.classList.remove("current");
    span.removeAttribute("aria-current");
  }

  // ---- "continue where I stopped" ---------------------------------------------------

  function offerResume() {
    const saved = savedPosition(docId);
    const p = saved === null ? -1 : spans.findIndex((s) => s.dataset.index === String(saved));
    if (p <= 0) return;
    const box = $("resume");
    $("resume-n").textContent = String(p + 1);
    box.hidden = false;
    $("resume-continue").addEventListener("click", () => {
      hideResume();
      announce("Playing.");
      start(p, { jump: true });
    });
    $("resume-restart").addEventListener("click", () => {
      hideResume();
      announce("Playing.");
      start(0, { jump: true });
    });
  }

  function hideResume() {
    const box = $("resume");
    if (box.hidden) return;
    const hadFocus = box.contains(document.activeElement);
    box.hidden = true;
    if (hadFocus) playButton.focus(); // the button that had focus is gone
  }

  // ---- audio ------------------------------------------------------------------------

  function apiUrl(p, what) {
    const n = encodeURIComponent(spans[p].dataset.index);
    const base = `/api/documents/${encodeURIComponent(docId)}/sentences/${n}/${what}`;
    // format on timings too: the server finds the timings in the same cache entry.
    const params = new URLSearchParams({ voice: choices.voice(), format });
    if (choices.style()) params.set("instructions", choices.style());
    return `${base}?${params}`;
  }

  function setDeck(i, url, p) {
    const old = decks[i].src;
    decks[i].src = url;
    deckPos[i] = p;
    audio.release(old);
  }

  async function prefetch(from, myToken) {
    // Offline voices: one at a time, so prefetching never competes with the sentence about
    // to play on this machine's CPU. Cloud voices: all at once; the server bounds how many
    // reach the service, and playback then never waits on it after the first sentence.
    if (choices.isRemote()) {
      for (let p = from + 1; p <= from + PREFETCH && p < spans.length; p++) audio.load(p).catch(() => {});
    }
    for (let p = from + 1; p <= from + PREFETCH && p < spans.length; p++) {
      if (myToken !== token) return;
      let entry;
      try { entry = await audio.load(p); } catch { return; }
      if (p === from + 1 && myToken === token && pos === from) {
        // Decode the next sentence in the idle deck now, so it starts without a gap.
        const other = 1 - active;
        if (deckPos[other] !== p) {
          setDeck(other, entry.url, p);
          decks[other].load();
        }
      }
    }
  }

  // ---- playback ---------------------------------------------------------------------

  async function start(p, { isRetry = false, jump = false } = {}) {
    const myToken = ++token;
    for (const deck of decks) deck.pause();
    hideResume();
    highlight(p, { jump });
    retried = isRetry;
    setState("playing");
    audio.prune(p, PREFETCH);
    showPosition(!audio.get(p)?.url);
    let entry;
    try {
      entry = await audio.load(p);
    } catch (err) {
      if (myToken !== token || err.name === "AbortError") return;
      audio.drop(p);
      if (!isRetry) return start(p, { isRetry: true });
      return failed(p, err.message);
    }
    if (myToken !== token) return;
    showPosition();
    await wake.wake();
    if (myToken !== token) return;
    const ready = deckPos.indexOf(p);
    if (ready >= 0 && decks[ready].src === entry.url) {
      active = ready;
      decks[active].currentTime = 0;
    } else {
      setDeck(active, entry.url, p);
    }
    applyRate();
    try {
      await decks[active].play();
    } catch (err) {
      if (myToken !== token || err.name === "AbortError") return;
      setState("paused");
      announce("The browser blocked playback. Press Play to start.");
      return;
    }
    if (myToken !== token) return;
    playing(p, entry, myToken);
  }

  // The sentence at p has started to sound.
  function playing(p, entry, myToken) {
    failures = 0;
    const seconds = decks[active].duration;
    if (Number.isFinite(seconds) && seconds > 0) durations.set(p, seconds);
    words.prepare(spans[p], entry.words, !decks[active].paused);
    if (!entry.words.length && entry.wordsReady) {
      // The timings came after the audio: highlight words from where the voice is now.
      entry.wordsReady.then(() => {
        if (myToken === token && spans[p].classList.contains("current") && entry.words.length) words.prepare(spans[p], entry.words, !decks[active].paused);
      });
    }
    showTimeLeft();
    prefetch(p, myToken);
  }

  function failed(p, message) {
    failures += 1;
    if (failures >= MAX_FAILURES_IN_A_ROW || p + 1 >= spans.length) {
      token++;
      setState("paused");
      wake.sleepSoon();
      announce(`Sentence ${p + 1} could not be read: ${message}. Reading stopped.`);
      return;
    }
    announce(`Sentence ${p + 1} could not be read: ${message}. Skipped it.`);
    start(p + 1);
  }

  // The current sentence ended: start the next one, from the idle deck if it is ready.
  function advance() {
    words.stop();
    const next = pos + 1;
    if (next >= spans.length) return finish();
    const other = 1 - active;
    const entry = audio.get(next);
    const deck = decks[other];
    if (!entry?.url || entry.key !== choices.key() || deckPos[other] !== next
        || deck.src !== entry.url || deck.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
      return start(next);
    }
    const myToken = ++token;
    active = other;
    applyRate();
    if (deck.currentTime !== 0) deck.currentTime = 0; // a needless seek would delay it
    const started = deck.play(); // first, before any bookkeeping: this is the gap
    retried = false;
    highlight(next);
    audio.prune(next, PREFETCH);
    started.then(
      () => { if (myToken === token) playing(next, entry, myToken); },
      (err) => { if (myToken === token && err.name !== "AbortError") start(next); },
    );
  }

  function finish() {
    token++;
    clearHighlight();
    setState("finished");
    forgetPosition(docId);
    follower.release();
    showPosition();
    wake.sleepSoon();
    announce("Finished.");
  }

  function pause() {
    token++;
    for (const deck of decks) deck.pause(); // word spans stay: the highlight resumes with it
    setState("paused");
    showTimeLeft();
    wake.sleepSoon();
    announce("Paused.");
  }

  function stop() {
    if (!spans.length || readerState === "idle" || readerState === "finished") return;
    token++;
    for (const deck of decks) deck.pause();
    words.stop();
    setState("stopped");
    showTimeLeft();
    wake.sleepSoon();
    announce("Stopped. Play starts again at the beginning of this sentence.");
  }

  function play() {
    if (!spans.length) return;
    const chosen = sentenceAtSelection(article, spans, false);
    if (chosen !== null) {
      announce("Playing.");
      return start(chosen, { jump: true });
    }
    const deck = decks[active];
    if (readerState === "paused" && deckPos[active] === pos && deck.src && !deck.ended) {
      const myToken = ++token;
      setState("playing");
      hideResume();
      announce("Playing.");
      wake.wake();
      deck.play().then(
        () => { if (myToken === token) prefetch(pos, myToken); },
        () => { if (myToken === token) start(pos); },
      );
      return;
    }
    announce("Playing.");
    start(readerState === "finished" ? 0 : pos, { jump: true });
  }

  function toggle() {
    if (readerState === "playing") pause();
    else play();
  }

  function moveTo(next, edgeMessage) {
    if (next === null || next < 0 || next >= spans.length) {
      announce(edgeMessage);
      return;
    }
    if (readerState === "playing") {
      start(next, { jump: true });
      return;
    }
    // Not playing: move the reading position; Play reads from there.
    token++;
    for (const deck of decks) deck.pause();
    for (const i of [0, 1]) if (deckPos[i] !== next) deckPos[i] = -1;
    hideResume();
    if (readerState === "idle" || readerState === "finished") setState("paused");
    highlight(next, { jump: true });
  }

  function step(delta) {
    if (!spans.length) return;
    const base = readerState === "finished" ? (delta > 0 ? spans.length - 1 : spans.length) : pos;
    moveTo(base + delta, delta < 0 ? "This is the first sentence." : "This is the last sentence.");
  }

  // Paragraphs, headings and list items ("blocks"), as media players move by track.
  function stepBlock(delta) {
    if (!spans.length) return;
    let target;
    if (readerState === "finished") target = delta < 0 ? blockStart(spans, spans.length - 1) : null;
    else target = blockStep(spans, pos, delta);
    moveTo(target, delta < 0 ? "This is the first paragraph." : "This is the last paragraph.");
  }

  for (const [i, deck] of decks.entries()) {
    deck.addEventListener("ended", () => {
      if (i === active && readerState === "playing") advance();
    });
    deck.addEventListener("error", () => {
      if (i !== active) {
        // The next sentence failed to decode while waiting: fetch it afresh later.
        if (deckPos[i] >= 0) audio.drop(deckPos[i]);
        deckPos[i] = -1;
        return;
      }
      // A fetched blob that does not decode: get it again once, then skip the sentence.
      if (readerState !== "playing" || deckPos[i] !== pos || !deck.src) return;
      const p = pos;
      audio.drop(p);
      if (!retried) start(p, { isRetry: true });
      else failed(p, "the audio could not be played");
    });
    deck.addEventListener("playing", () => { if (i === active) words.run(); });
    deck.addEventListener("pause", () => { if (i === active) words.stop(false); });
  }

  // ---- controls -----------------------------------------------------------------------

  article.addEventListener("click", (event) => {
    const span = event.target.closest?.(".sentence");
    if (!span) return;
    const sel = document.getSelection();
    if (sel && !sel.isCollapsed) return; // the user is selecting text, not choosing a sentence
    const p = spans.indexOf(span);
    if (p < 0) return;
    if (readerState !== "playing") announce("Playing.");
    start(p, { jump: true });
  });

  playButton.addEventListener("click", toggle);
  $("stop").addEventListener("click", stop);
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("prev-block").addEventListener("click", () => stepBlock(-1));
  $("next-block").addEventListener("click", () => stepBlock(1));

  bindShortcuts({
    article, toggle, stop, step, stepBlock, changeSpeed,
    readAtCaret: () => {
      const p = sentenceAtSelection(article, spans, true);
      if (p === null) return false;
      if (readerState !== "playing") announce("Playing.");
      start(p, { jump: true });
      return true;
    },
  });
  bindMediaSession({
    title: $("doc-title")?.textContent ?? document.title,
    play: () => { if (readerState !== "playing") play(); },
    pause: () => { if (readerState === "playing") pause(); },
    stop, step,
  });

  function audioChanged() {
    audio.dropAll();
    if (readerState === "playing") start(pos); // hear the new voice now, from this sentence
  }

  function changeSpeed(delta) {
    if (!choices.stepSpeed(delta)) {
      announce(`Speed ${speedSelect.value}× is the ${delta < 0 ? "slowest" : "fastest"}.`);
      return;
    }
    announce(`Speed ${speedSelect.value}×.`);
  }

  function applyRate() {
    for (const deck of decks) {
      deck.defaultPlaybackRate = choices.rate(); // a new src resets playbackRate to this
      deck.playbackRate = choices.rate();
      deck.preservesPitch = true;
    }
    showTimeLeft();
  }

  initDisplay({
    panel: $("display-settings"),
    toggle: $("settings-toggle"),
    reset: $("display-reset"),
    onChange: () => {
      lineFocus.update();
      if (readerState !== "idle" && spans[pos]) follower.show(spans[pos]);
    },
  });
  initHelp({ dialog: $("help"), openButton: $("help-open"), closeButton: $("help-close") });

  window.addEventListener("pagehide", () => {
    for (const deck of decks) deck.pause();
    audio.dropAll();
  });
}

// Keeps --player-height current, so the sticky player never covers the sentence or the
// control being scrolled to (CSS uses it for scroll-padding-top).
function watchPlayerHeight(player) {
  const update = () => root.style.setProperty("--player-height", `${player.offsetHeight}px`);
  update();
  if ("ResizeObserver" in window) new ResizeObserver(update).observe(player);
}
