// The reader page: plays a document sentence after sentence and highlights what is read.
//
// Keyboard model, and why:
// - Sentences are NOT tab stops. A long article would otherwise put hundreds of stops
//   between the player and the rest of the page. Instead:
//   * a click or tap on a sentence reads from there. Screen readers (NVDA, JAWS in
//     browse mode; VoiceOver with VO+Space) turn "activate" on plain text into a click,
//     so the same handler serves them;
//   * keyboard-only users select some text (Shift+arrows with caret browsing, or find
//     with Ctrl+F, whose match stays selected) and press Play: reading starts at the
//     sentence that holds the selection.
// - Global shortcuts use Alt (Alt+P, Alt+, and Alt+. as in the Read Aloud extension):
//   single keys like Space or K belong to screen readers and to the page.
// - Focus is never moved by this script; only the page scrolls to keep the sentence in view.
// - One polite live region reports changes of state (playing, paused, finished, errors);
//   the sentence position is shown visually but never announced on every sentence.
//
// Audio: one Audio element. The current sentence and the next PREFETCH ones are fetched
// into Blob object URLs, so each sentence starts the moment the previous one ends; URLs
// outside that window are revoked. A sentence that fails is retried once, then skipped.

const PREFETCH = 3; // sentences fetched ahead of the one playing
const MAX_FAILURES_IN_A_ROW = 3; // then stop instead of skipping through a dead server
const VOICE_KEY = "reader.voice";
const RATE_KEY = "reader.rate";

const root = document.documentElement;
const article = document.querySelector("article[data-doc-id]");
if (article) init(article);

function init(article) {
  const docId = article.dataset.docId;
  const format = article.dataset.format || "mp3";
  const spans = Array.from(article.querySelectorAll(".sentence"));
  const player = document.getElementById("player");
  const playButton = document.getElementById("play-pause");
  const prevButton = document.getElementById("prev");
  const nextButton = document.getElementById("next");
  const voiceSelect = document.getElementById("voice");
  const speedSelect = document.getElementById("speed");
  const position = document.getElementById("position");
  const status = document.getElementById("status");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  const audio = new Audio();
  audio.preload = "auto";

  // pos: position in `spans` (document order); the API wants the sentence's data-index.
  let pos = 0;
  let readerState = "idle";
  let token = 0; // bumped whenever what should be playing changes; stale work checks it
  let loadedPos = -1; // the sentence whose audio is in the element
  let retried = false; // the current sentence has had its one retry
  let failures = 0;
  let words = [];
  let wordIndex = -1;
  let frame = 0;
  let staleSrc = null; // a dropped URL still in the audio element: revoked once replaced
  const cache = new Map(); // pos -> {voice, promise, url, words, controller}

  setState("idle");
  if (!spans.length) {
    for (const button of [playButton, prevButton, nextButton]) button.disabled = true;
  }
  restoreSettings();
  player.hidden = false;
  document.getElementById("keys").hidden = false;
  watchPlayerHeight(player);

  // ---- state and display ----------------------------------------------------------

  function setState(next) {
    readerState = next;
    root.dataset.readerState = next;
    playButton.textContent = next === "playing" ? "Pause" : "Play";
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = next === "playing" ? "playing" : "paused";
    }
  }

  let announceTimer = 0;
  function announce(message) {
    // Clearing first makes a repeated message ("Paused" twice) be spoken again.
    clearTimeout(announceTimer);
    status.textContent = "";
    announceTimer = setTimeout(() => { status.textContent = message; }, 100);
  }

  function showPosition(loading = false) {
    const n = spans.length ? pos + 1 : 0;
    position.textContent = `Sentence ${n} of ${spans.length}${loading ? " (loading)" : ""}`;
  }

  function highlight(next, { scroll = true } = {}) {
    const old = spans[pos];
    if (old && old !== spans[next]) clearHighlight();
    pos = next;
    const span = spans[pos];
    span.classList.add("current");
    span.setAttribute("aria-current", "true");
    article.dataset.current = span.dataset.index;
    showPosition();
    if (scroll) {
      span.scrollIntoView({ block: "nearest", behavior: reduceMotion.matches ? "auto" : "smooth" });
    }
  }

  function clearHighlight() {
    const span = spans[pos];
    if (!span) return;
    stopWords();
    span.classList.remove("current");
    span.removeAttribute("aria-current");
  }

  // ---- audio fetching ---------------------------------------------------------------

  function voice() {
    return voiceSelect.value || article.dataset.defaultVoice || "";
  }

  function apiUrl(p, what) {
    const n = encodeURIComponent(spans[p].dataset.index);
    const base = `/api/documents/${encodeURIComponent(docId)}/sentences/${n}/${what}`;
    // format on timings too: the server finds the timings in the same cache entry.
    const params = new URLSearchParams({ voice: voice(), format });
    return `${base}?${params}`;
  }

  async function problemMessage(response) {
    try {
      const body = await response.json();
      return body.detail || body.title || `HTTP ${response.status}`;
    } catch {
      return `HTTP ${response.status}`;
    }
  }

  async function fetchTimings(p, signal) {
    // Word timings are a bonus: any failure just means no word highlight.
    try {
      const response = await fetch(apiUrl(p, "timings"), { signal });
      if (!response.ok) return [];
      const body = await response.json();
      return Array.isArray(body.words) ? body.words : [];
    } catch {
      return [];
    }
  }

  function load(p) {
    const entry = cache.get(p);
    if (entry && entry.voice === voice()) return entry.promise;
    if (entry) drop(p);
    const controller = new AbortController();
    const fresh = { voice: voice(), url: null, words: [], controller, promise: null };
    fresh.promise = (async () => {
      const [response, timings] = await Promise.all([
        fetch(apiUrl(p, "speech"), { signal: controller.signal }),
        fetchTimings(p, controller.signal),
      ]);
      if (!response.ok) throw new Error(await problemMessage(response));
      const blob = await response.blob();
      if (controller.signal.aborted) throw new DOMException("Aborted", "AbortError");
      fresh.url = URL.createObjectURL(blob);
      fresh.words = timings;
      return fresh;
    })();
    fresh.promise.catch(() => {}); // a prefetch nobody awaits must not be reported as unhandled
    cache.set(p, fresh);
    return fresh.promise;
  }

  function drop(p) {
    const entry = cache.get(p);
    if (!entry) return;
    cache.delete(p);
    entry.controller.abort();
    if (entry.url && entry.url === audio.src) staleSrc = entry.url; // may still be loading
    else if (entry.url) URL.revokeObjectURL(entry.url);
    if (p === loadedPos) loadedPos = -1;
  }

  function dropAll() {
    for (const p of Array.from(cache.keys())) drop(p);
  }

  function prune(from) {
    for (const p of Array.from(cache.keys())) {
      if (p < from || p > from + PREFETCH) drop(p);
    }
  }

  async function prefetch(from, myToken) {
    // One at a time, so prefetching never competes with the sentence about to play.
    for (let p = from + 1; p <= from + PREFETCH && p < spans.length; p++) {
      if (myToken !== token) return;
      try { await load(p); } catch { return; }
    }
  }

  // ---- playback ---------------------------------------------------------------------

  async function start(p, { isRetry = false } = {}) {
    const myToken = ++token;
    audio.pause();
    highlight(p);
    retried = isRetry;
    setState("playing");
    prune(p);
    let entry;
    showPosition(!cache.get(p)?.url);
    try {
      entry = await load(p);
    } catch (err) {
      if (myToken !== token || err.name === "AbortError") return;
      drop(p);
      if (!isRetry) return start(p, { isRetry: true });
      return failed(p, err.message);
    }
    if (myToken !== token) return;
    showPosition();
    loadedPos = p;
    audio.src = entry.url;
    if (staleSrc && staleSrc !== entry.url) URL.revokeObjectURL(staleSrc);
    staleSrc = null;
    applyRate();
    try {
      await audio.play();
    } catch (err) {
      if (myToken !== token || err.name === "AbortError") return;
      setState("paused");
      announce("The browser blocked playback. Press Play to start.");
      return;
    }
    if (myToken !== token) return;
    failures = 0;
    prepareWords(entry.words);
    prefetch(p, myToken);
  }

  function failed(p, message) {
    failures += 1;
    if (failures >= MAX_FAILURES_IN_A_ROW || p + 1 >= spans.length) {
      token++;
      setState("paused");
      announce(`Sentence ${p + 1} could not be read: ${message}. Reading stopped.`);
      return;
    }
    announce(`Sentence ${p + 1} could not be read: ${message}. Skipped it.`);
    start(p + 1);
  }

  function finish() {
    token++;
    clearHighlight();
    setState("finished");
    announce("Finished.");
  }

  function pause() {
    token++;
    audio.pause(); // word spans stay, so the word highlight picks up again on resume
    setState("paused");
    announce("Paused.");
  }

  function play() {
    if (!spans.length) return;
    const chosen = sentenceFromSelection();
    if (chosen !== null) {
      announce("Playing.");
      return start(chosen);
    }
    if (readerState === "paused" && loadedPos === pos && audio.src && !audio.ended) {
      const myToken = ++token;
      setState("playing");
      announce("Playing.");
      audio.play().then(() => prefetch(pos, myToken), () => { if (myToken === token) start(pos); });
      return;
    }
    announce("Playing.");
    start(readerState === "finished" ? 0 : pos);
  }

  function toggle() {
    if (readerState === "playing") pause();
    else play();
  }

  function step(delta) {
    if (!spans.length) return;
    const base = readerState === "finished" ? (delta > 0 ? spans.length - 1 : spans.length) : pos;
    const next = base + delta;
    if (next < 0 || next >= spans.length) {
      announce(delta < 0 ? "This is the first sentence." : "This is the last sentence.");
      return;
    }
    if (readerState === "playing") return start(next);
    // Not playing: move the reading position; Play reads from there.
    token++;
    audio.pause();
    loadedPos = -1;
    highlight(next);
    if (readerState !== "paused") setState("paused");
  }

  audio.addEventListener("ended", () => {
    if (readerState !== "playing") return;
    stopWords();
    if (pos + 1 < spans.length) start(pos + 1);
    else finish();
  });

  audio.addEventListener("error", () => {
    // A fetched blob that does not decode: get it again once, then skip the sentence.
    if (readerState !== "playing" || loadedPos !== pos || !audio.src) return;
    const p = pos;
    drop(p);
    if (!retried) start(p, { isRetry: true });
    else failed(p, "the audio could not be played");
  });

  audio.addEventListener("playing", () => runWords());
  audio.addEventListener("pause", () => stopWords(false));

  // ---- word highlighting ------------------------------------------------------------

  function prepareWords(timings) {
    stopWords();
    const span = spans[pos];
    const text = span.textContent;
    const list = timings
      .filter((w) => Number.isInteger(w.start) && Number.isInteger(w.end)
        && w.start >= 0 && w.end > w.start && w.end <= text.length)
      .sort((a, b) => a.start - b.start);
    if (!list.length) return;
    // Split the sentence's text into word spans only now, and undo it when the sentence
    // is left, so the document stays plain text for screen readers the rest of the time.
    const fragment = document.createDocumentFragment();
    let at = 0;
    words = [];
    for (const w of list) {
      if (w.start < at) continue; // overlapping timings: keep the first
      if (w.start > at) fragment.append(text.slice(at, w.start));
      const el = document.createElement("span");
      el.className = "word";
      el.textContent = text.slice(w.start, w.end);
      fragment.append(el);
      words.push({ el, t0: Number(w.t0) || 0, t1: Number(w.t1) || 0 });
      at = w.end;
    }
    if (at < text.length) fragment.append(text.slice(at));
    span.dataset.text = text;
    span.replaceChildren(fragment);
    if (!audio.paused) runWords();
  }

  function runWords() {
    cancelAnimationFrame(frame);
    if (!words.length) return;
    const tick = () => {
      const t = audio.currentTime;
      let i = -1;
      for (let k = 0; k < words.length && words[k].t0 <= t; k++) i = k;
      if (i !== wordIndex) {
        words[wordIndex]?.el.classList.remove("word-current");
        words[i]?.el.classList.add("word-current");
        wordIndex = i;
      }
      frame = requestAnimationFrame(tick);
    };
    tick();
  }

  function stopWords(unwrap = true) {
    cancelAnimationFrame(frame);
    if (!unwrap) return;
    words[wordIndex]?.el.classList.remove("word-current");
    wordIndex = -1;
    words = [];
    const span = spans[pos];
    if (span && span.dataset.text !== undefined) {
      span.textContent = span.dataset.text;
      delete span.dataset.text;
    }
  }

  // ---- "read from here" ---------------------------------------------------------------

  // The sentence where a text selection inside the article starts, or null. Using it
  // collapses the selection, so a later Play resumes instead of jumping back to it.
  function sentenceFromSelection() {
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    let node = range.startContainer;
    if (node.nodeType === Node.ELEMENT_NODE && node.childNodes[range.startOffset]) {
      node = node.childNodes[range.startOffset];
    }
    if (!article.contains(node)) return null;
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const span = el.closest(".sentence") ?? el.querySelector(".sentence");
    const p = span ? spans.indexOf(span) : -1;
    if (p < 0) return null;
    sel.collapseToStart();
    return p;
  }

  article.addEventListener("click", (event) => {
    const span = event.target.closest?.(".sentence");
    if (!span) return;
    const sel = document.getSelection();
    if (sel && !sel.isCollapsed) return; // the user is selecting text, not choosing a sentence
    const p = spans.indexOf(span);
    if (p < 0) return;
    if (readerState !== "playing") announce("Playing.");
    start(p);
  });

  // ---- controls -------------------------------------------------------------------------

  playButton.addEventListener("click", toggle);
  prevButton.addEventListener("click", () => step(-1));
  nextButton.addEventListener("click", () => step(1));

  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    // event.code, not event.key: on macOS Option+P types "π".
    if (event.code === "KeyP") {
      if (!event.repeat) toggle();
    } else if (event.code === "Comma") {
      step(-1);
    } else if (event.code === "Period") {
      step(1);
    } else {
      return;
    }
    event.preventDefault();
  });

  voiceSelect.addEventListener("change", () => {
    store(VOICE_KEY, voiceSelect.value);
    dropAll();
    loadedPos = -1;
    if (readerState === "playing") start(pos); // hear the new voice now, from this sentence
  });

  speedSelect.addEventListener("change", () => {
    store(RATE_KEY, speedSelect.value);
    applyRate();
  });

  function applyRate() {
    const rate = Number(speedSelect.value) || 1;
    audio.defaultPlaybackRate = rate; // a new src resets playbackRate to this
    audio.playbackRate = rate;
  }

  function restoreSettings() {
    const savedVoice = read(VOICE_KEY);
    if (savedVoice && Array.from(voiceSelect.options).some((o) => o.value === savedVoice)) {
      voiceSelect.value = savedVoice;
    }
    const savedRate = read(RATE_KEY);
    if (savedRate && Array.from(speedSelect.options).some((o) => o.value === savedRate)) {
      speedSelect.value = savedRate;
    }
  }

  if ("mediaSession" in navigator) {
    // Headset buttons and the system media keys.
    if ("MediaMetadata" in window) {
      navigator.mediaSession.metadata = new MediaMetadata({
        title: document.getElementById("doc-title")?.textContent ?? document.title,
        artist: "Reader",
      });
    }
    const handlers = {
      play: () => { if (readerState !== "playing") play(); },
      pause: () => { if (readerState === "playing") pause(); },
      previoustrack: () => step(-1),
      nexttrack: () => step(1),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch { /* unsupported */ }
    }
  }

  window.addEventListener("pagehide", () => dropAll());
}

// Keeps --player-height current, so the sticky player never covers the sentence or the
// control being scrolled to (CSS uses it for scroll-padding-top).
function watchPlayerHeight(player) {
  const update = () => root.style.setProperty("--player-height", `${player.offsetHeight}px`);
  update();
  if ("ResizeObserver" in window) new ResizeObserver(update).observe(player);
}

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage off: the choice lasts this page */ }
}
