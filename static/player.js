// The Player: plays a document's sentences one after another on two audio "decks", with
// explicit states. It knows nothing of the page's layout: a view shows what it reports.
//
// States and the moves between them (anything else is a bug, reported on the console):
//   idle      -> playing | paused            nothing played yet (paused: a position was chosen)
//   playing   -> playing | paused | stopped | finished
//   paused    -> playing | paused | stopped
//   stopped   -> playing | paused             Play starts the sentence again
//   finished  -> playing | paused             the last sentence ended
//
// Audio: the current sentence and the next PREFETCH ones are fetched into Blob object URLs
// (SentenceAudio); while one deck plays, the next sentence is already loaded and decoded in
// the other, so on "ended" it starts at once: no gap, no clipped first word. A sentence that
// fails is retried once, then skipped with a notice. Speed is the elements' playbackRate
// (pitch preserved): a speed change never asks the server for new audio.

import { blockStart, blockStep, sentenceAtSelection } from "./positions.js";
import { markFinished } from "./resume.js";
import { SentenceAudio } from "./sentence-audio.js";
import { AudioWake } from "./wake.js";
import { WordHighlighter } from "./words.js";

export const PREFETCH = 3; // sentences fetched ahead of the one playing
const MAX_FAILURES_IN_A_ROW = 3; // then stop instead of skipping through a dead server

const MOVES = {
  idle: ["playing", "paused"],
  playing: ["playing", "paused", "stopped", "finished"],
  paused: ["playing", "paused", "stopped"],
  stopped: ["playing", "paused"],
  finished: ["playing", "paused"],
};

export class Player {
  // view: { state(s), announce(msg), highlight(p, {jump}), unhighlight(p), position(loading),
  //         timeLeft(), resumeDone(), finished() }; choices: voice, style, key, rate, isRemote.
  constructor({ article, spans, docId, format, choices, view }) {
    Object.assign(this, { article, spans, docId, format, choices, view });
    this.decks = [new Audio(), new Audio()];
    this.deckPos = [-1, -1]; // the sentence loaded in each deck
    this.active = 0;
    this.pos = 0; // position in `spans` (document order); the API wants the sentence's data-index
    this.state = "idle";
    this.token = 0; // bumped whenever what should be playing changes; stale work checks it
    this.retried = false; // the current sentence has had its one retry
    this.failures = 0;
    this.audio = new SentenceAudio({
      urlFor: (p, what) => this.apiUrl(p, what),
      key: () => choices.key(),
      inDeck: (url) => this.decks.some((d) => d.src === url),
      onDrop: (p) => { for (const i of [0, 1]) if (this.deckPos[i] === p) this.deckPos[i] = -1; },
      onFallback: () => view.announce("The chosen voice is not available now: reading with the offline voice."),
      onRefined: (p, entry) => {
        // The aligner's timings replace the first estimate of the sentence being read.
        if (this.pos === p && this.spans[p]?.classList.contains("current") && this.state !== "stopped") {
          this.words.prepare(this.spans[p], entry.words, !this.decks[this.active].paused);
        }
      },
    });
    this.words = new WordHighlighter(() => this.decks[this.active].currentTime);
    this.wake = new AudioWake();
    for (const deck of this.decks) {
      deck.preload = "auto";
      deck.preservesPitch = true;
    }
    this.bindDecks();
  }

  get durations() {
    return this.audio.durations;
  }

  // What the current deck says about the sentence sounding now (for the time left).
  sounding() {
    const deck = this.decks[this.active];
    const live = this.deckPos[this.active] === this.pos && Number.isFinite(deck.duration) && this.state !== "stopped";
    return live ? Math.max(0, deck.duration - deck.currentTime) : null;
  }

  setState(next) {
    if (!MOVES[this.state]?.includes(next)) console.error(`reader: no move from ${this.state} to ${next}`);
    this.state = next;
    this.view.state(next);
  }

  apiUrl(p, what) {
    const n = encodeURIComponent(this.spans[p].dataset.index);
    const base = `/api/documents/${encodeURIComponent(this.docId)}/sentences/${n}/${what}`;
    // format on timings too: the server finds the timings in the same cache entry.
    const params = new URLSearchParams({ voice: this.choices.voice(), format: this.format });
    if (this.choices.style()) params.set("instructions", this.choices.style());
    return `${base}?${params}`;
  }

  setDeck(i, url, p) {
    const old = this.decks[i].src;
    this.decks[i].src = url;
    this.deckPos[i] = p;
    this.audio.release(old);
  }

  moveHighlight(p, { jump = false } = {}) {
    if (this.spans[this.pos] && this.pos !== p) this.clearHighlight();
    this.pos = p;
    this.view.highlight(p, { jump });
  }

  clearHighlight() {
    this.words.stop();
    this.view.unhighlight(this.pos);
  }

  async prefetch(from, myToken) {
    // Offline voices: one at a time, so prefetching never competes with the sentence about
    // to play on this machine's CPU. Cloud voices: all at once; the server bounds how many
    // reach the service, and playback then never waits on it after the first sentence.
    const last = Math.min(from + PREFETCH, this.spans.length - 1);
    if (this.choices.isRemote()) {
      for (let p = from + 1; p <= last; p++) this.audio.load(p).catch(() => {});
    }
    for (let p = from + 1; p <= last; p++) {
      if (myToken !== this.token) return;
      let entry;
      try { entry = await this.audio.load(p); } catch { return; }
      if (p === from + 1 && myToken === this.token && this.pos === from) {
        // Decode the next sentence in the idle deck now, so it starts without a gap.
        const other = 1 - this.active;
        if (this.deckPos[other] !== p) {
          this.setDeck(other, entry.url, p);
          this.decks[other].load();
        }
      }
    }
  }

  // ---- playback ---------------------------------------------------------------------

  async start(p, { isRetry = false, jump = false } = {}) {
    const myToken = ++this.token;
    this.studyHold = false;
    for (const deck of this.decks) deck.pause();
    this.view.resumeDone();
    this.moveHighlight(p, { jump });
    this.retried = isRetry;
    this.setState("playing");
    this.audio.prune(p, PREFETCH);
    this.view.position(!this.audio.get(p)?.url);
    let entry;
    try {
      entry = await this.audio.load(p);
    } catch (err) {
      if (myToken !== this.token || err.name === "AbortError") return undefined;
      this.audio.drop(p);
      if (!isRetry) return this.start(p, { isRetry: true });
      return this.failed(p, err.message);
    }
    if (myToken !== this.token) return undefined;
    this.view.position(false);
    await this.wake.wake();
    if (myToken !== this.token) return undefined;
    const ready = this.deckPos.indexOf(p);
    if (ready >= 0 && this.decks[ready].src === entry.url) {
      this.active = ready;
      this.decks[this.active].currentTime = 0;
    } else {
      this.setDeck(this.active, entry.url, p);
    }
    this.applyRate();
    try {
      await this.decks[this.active].play();
    } catch (err) {
      if (myToken !== this.token || err.name === "AbortError") return undefined;
      this.setState("paused");
      this.view.announce("The browser blocked playback. Press Play to start.");
      return undefined;
    }
    if (myToken === this.token) this.playing(p, entry, myToken);
    return undefined;
  }

  // The sentence at p has started to sound.
  playing(p, entry, myToken) {
    this.failures = 0;
    const deck = this.decks[this.active];
    if (Number.isFinite(deck.duration) && deck.duration > 0) this.durations.set(p, deck.duration);
    this.words.prepare(this.spans[p], entry.words, !deck.paused);
    if (!entry.words.length && entry.wordsReady) {
      // The timings came after the audio: highlight words from where the voice is now.
      entry.wordsReady.then(() => {
        const current = this.spans[p].classList.contains("current");
        if (myToken === this.token && current && entry.words.length) {
          this.words.prepare(this.spans[p], entry.words, !this.decks[this.active].paused);
        }
      });
    }
    this.view.timeLeft();
    this.prefetch(p, myToken);
  }

  failed(p, message) {
    this.failures += 1;
    if (this.failures >= MAX_FAILURES_IN_A_ROW || p + 1 >= this.spans.length) {
      this.token++;
      this.setState("paused");
      this.wake.sleepSoon();
      this.view.announce(`Sentence ${p + 1} could not be read: ${message}. Reading stopped.`);
      return;
    }
    this.view.announce(`Sentence ${p + 1} could not be read: ${message}. Skipped it.`);
    this.start(p + 1);
  }

  // The current sentence ended: start the next one, from the idle deck if it is ready.
  advance() {
    if (document.documentElement.dataset.study === "on" && this.pos + 1 < this.spans.length) {
      // Study mode: stop after each sentence. Next goes on, Play hears it again, Previous goes back.
      this.words.stop();
      this.studyHold = true;
      this.setState("paused");
      this.view.announce(`End of sentence ${this.pos + 1}. Next sentence goes on; Play reads it again.`);
      return;
    }
    this.words.stop();
    const next = this.pos + 1;
    if (next >= this.spans.length) {
      this.finish();
      return;
    }
    const other = 1 - this.active;
    const entry = this.audio.get(next);
    const deck = this.decks[other];
    if (!entry?.url || entry.key !== this.choices.key() || this.deckPos[other] !== next
        || deck.src !== entry.url || deck.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
      this.start(next);
      return;
    }
    const myToken = ++this.token;
    this.active = other;
    this.applyRate();
    if (deck.currentTime !== 0) deck.currentTime = 0; // a needless seek would delay it
    const started = deck.play(); // first, before any bookkeeping: this is the gap
    this.retried = false;
    this.moveHighlight(next);
    this.audio.prune(next, PREFETCH);
    started.then(
      () => { if (myToken === this.token) this.playing(next, entry, myToken); },
      (err) => { if (myToken === this.token && err.name !== "AbortError") this.start(next); },
    );
  }

  finish() {
    this.token++;
    this.clearHighlight();
    this.setState("finished");
    markFinished(this.docId);
    this.view.finished();
    this.wake.sleepSoon();
    this.view.announce("Finished.");
  }

  pause() {
    this.token++;
    for (const deck of this.decks) deck.pause(); // word spans stay: the highlight resumes with it
    this.setState("paused");
    this.view.timeLeft();
    this.wake.sleepSoon();
    this.view.announce("Paused.");
  }

  stop() {
    if (!this.spans.length || this.state === "idle" || this.state === "finished" || this.state === "stopped") return;
    this.token++;
    for (const deck of this.decks) deck.pause();
    this.words.stop();
    this.setState("stopped");
    this.view.timeLeft();
    this.wake.sleepSoon();
    this.view.announce("Stopped. Play starts again at the beginning of this sentence.");
  }

  play() {
    if (!this.spans.length) return;
    const chosen = sentenceAtSelection(this.article, this.spans, false);
    if (chosen !== null) {
      this.view.announce("Playing.");
      this.start(chosen, { jump: true });
      return;
    }
    const deck = this.decks[this.active];
    if (this.state === "paused" && this.deckPos[this.active] === this.pos && deck.src && !deck.ended) {
      const myToken = ++this.token;
      this.setState("playing");
      this.view.resumeDone();
      this.view.announce("Playing.");
      this.wake.wake();
      deck.play().then(
        () => { if (myToken === this.token) this.prefetch(this.pos, myToken); },
        () => { if (myToken === this.token) this.start(this.pos); },
      );
      return;
    }
    this.view.announce("Playing.");
    this.start(this.state === "finished" ? 0 : this.pos, { jump: true });
  }

  toggle() {
    if (this.state === "playing") this.pause();
    else this.play();
  }

  // Fetch sentence p and the next one now, before Play: with an offline voice, pressing Play
  // on a freshly opened text then sounds at once. Cloud voices cost money: not before Play.
  warm(p = 0) {
    if (this.choices.isRemote() || !this.spans.length) return;
    for (let k = p; k <= p + 1 && k < this.spans.length; k++) this.audio.load(k).catch(() => {});
  }

  // Read from sentence p (a click, "read from here", the resume offer).
  readFrom(p) {
    if (this.state !== "playing") this.view.announce("Playing.");
    this.start(p, { jump: true });
  }

  moveTo(next, edgeMessage) {
    if (next === null || next < 0 || next >= this.spans.length) {
      this.view.announce(edgeMessage);
      return;
    }
    if (this.state === "playing" || this.studyHold) {
      this.start(next, { jump: true });
      return;
    }
    // Not playing: move the reading position; Play reads from there.
    this.token++;
    for (const deck of this.decks) deck.pause();
    for (const i of [0, 1]) if (this.deckPos[i] !== next) this.deckPos[i] = -1;
    this.view.resumeDone();
    if (this.state === "idle" || this.state === "finished") this.setState("paused");
    this.moveHighlight(next, { jump: true });
  }

  step(delta) {
    const n = this.spans.length;
    if (!n) return;
    const base = this.state === "finished" ? (delta > 0 ? n - 1 : n) : this.pos;
    this.moveTo(base + delta, delta < 0 ? "This is the first sentence." : "This is the last sentence.");
  }

  // Paragraphs, headings and list items ("blocks"), as media players move by track.
  stepBlock(delta) {
    if (!this.spans.length) return;
    let target;
    if (this.state === "finished") target = delta < 0 ? blockStart(this.spans, this.spans.length - 1) : null;
    else target = blockStep(this.spans, this.pos, delta);
    this.moveTo(target, delta < 0 ? "This is the first paragraph." : "This is the last paragraph.");
  }

  // The voice or style changed: old audio is stale; hear the new voice now, from this sentence.
  audioChanged() {
    this.audio.dropAll();
    if (this.state === "playing") this.start(this.pos);
  }

  applyRate() {
    for (const deck of this.decks) {
      deck.defaultPlaybackRate = this.choices.rate(); // a new src resets playbackRate to this
      deck.playbackRate = this.choices.rate();
      deck.preservesPitch = true;
    }
    this.view.timeLeft();
  }

  close() {
    for (const deck of this.decks) deck.pause();
    this.audio.dropAll();
  }

  bindDecks() {
    for (const [i, deck] of this.decks.entries()) {
      deck.addEventListener("ended", () => {
        if (i === this.active && this.state === "playing") this.advance();
      });
      deck.addEventListener("error", () => this.deckFailed(i));
      deck.addEventListener("playing", () => { if (i === this.active) this.words.run(); });
      deck.addEventListener("pause", () => { if (i === this.active) this.words.stop(false); });
    }
  }

  deckFailed(i) {
    const deck = this.decks[i];
    if (i !== this.active) {
      // The next sentence failed to decode while waiting: fetch it afresh later.
      if (this.deckPos[i] >= 0) this.audio.drop(this.deckPos[i]);
      this.deckPos[i] = -1;
      return;
    }
    // A fetched blob that does not decode: get it again once, then skip the sentence.
    if (this.state !== "playing" || this.deckPos[i] !== this.pos || !deck.src) return;
    const p = this.pos;
    this.audio.drop(p);
    if (!this.retried) this.start(p, { isRetry: true });
    else this.failed(p, "the audio could not be played");
  }
}
