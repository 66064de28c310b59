// The audio of a document's sentences: fetched into Blob object URLs (with their word
// timings), a few sentences ahead of the one playing, and revoked once out of that window.

export class SentenceAudio {
  // urlFor(p, "speech" | "timings"): where sentence p's audio and timings are;
  // key(): what the audio depends on (voice and style): entries for another key are stale;
  // inDeck(url): an audio element still uses this URL (it is revoked later, see release);
  // onDrop(p): sentence p's audio is gone; onFallback(): the server read with another voice.
  // onRefined(p, entry): better word timings of sentence p arrived after a first estimate.
  constructor({ urlFor, key, inDeck, onDrop, onFallback, onRefined }) {
    Object.assign(this, { urlFor, key, inDeck, onDrop, onFallback, onRefined });
    this.entries = new Map(); // p -> {key, promise, url, words, duration, controller}
    this.durations = new Map(); // p -> seconds at 1x, kept after the audio is dropped
    this.fallbackNoticed = "";
  }

  get(p) {
    return this.entries.get(p);
  }

  // The entry of sentence p, fetched once per key; rejects with the server's explanation.
  load(p) {
    const entry = this.entries.get(p);
    if (entry && entry.key === this.key()) return entry.promise;
    if (entry) this.drop(p);
    const controller = new AbortController();
    const fresh = { key: this.key(), url: null, words: [], duration: 0, controller, promise: null,
      wordsReady: null };
    fresh.promise = (async () => {
      // Timings never hold up the audio: voices timed by the server's Whisper get theirs a
      // moment later, and the highlighter picks them up when they arrive (see `wordsReady`).
      fresh.wordsReady = this.timings(p, controller.signal).then((timings) => {
        fresh.words = timings.words;
        if (!fresh.duration && timings.duration) fresh.duration = timings.duration;
        if (timings.estimated) {
          // A first estimate, there when the audio starts; the aligner's timings follow.
          fresh.refined = this.timings(p, controller.signal, true).then((better) => {
            if (better.words.length && !better.estimated) {
              fresh.words = better.words;
              this.onRefined?.(p, fresh);
            }
          });
        }
        return fresh;
      });
      const response = await fetchPatiently(this.urlFor(p, "speech"), controller.signal).catch((err) => {
        if (err.name === "AbortError") throw err;
        throw new Error("the server could not be reached"); // not the browser's "Failed to fetch"
      });
      if (!response.ok) throw new Error(await problemMessage(response));
      const blob = await response.blob();
      if (controller.signal.aborted) throw new DOMException("Aborted", "AbortError");
      fresh.url = URL.createObjectURL(blob);
      fresh.duration = Number(response.headers.get("X-Reader-Duration")) || fresh.duration || 0;
      if (fresh.duration > 0) this.durations.set(p, fresh.duration);
      if (response.headers.get("X-Reader-Fallback") && this.fallbackNoticed !== fresh.key) {
        this.fallbackNoticed = fresh.key;
        this.onFallback();
      }
      return fresh;
    })();
    fresh.promise.catch(() => {}); // a prefetch nobody awaits must not be reported as unhandled
    this.entries.set(p, fresh);
    return fresh.promise;
  }

  async timings(p, signal, refined = false) {
    // Word timings are a bonus: any failure just means no word highlight.
    try {
      const url = this.urlFor(p, "timings") + (refined ? "&refined=1" : "");
      const response = await fetchPatiently(url, signal);
      if (!response.ok) return { words: [] };
      const body = await response.json();
      return { words: Array.isArray(body.words) ? body.words : [], duration: Number(body.duration) || 0,
        estimated: body.estimated === true };
    } catch {
      return { words: [] };
    }
  }

  usedBy(url) {
    return Array.from(this.entries.values()).some((e) => e.url === url);
  }

  drop(p) {
    const entry = this.entries.get(p);
    if (!entry) return;
    this.entries.delete(p);
    entry.controller.abort();
    if (entry.url && !this.inDeck(entry.url)) URL.revokeObjectURL(entry.url);
    this.onDrop(p);
  }

  dropAll() {
    for (const p of Array.from(this.entries.keys())) this.drop(p);
  }

  // Keeps sentences from..from+ahead, drops the rest.
  prune(from, ahead) {
    for (const p of Array.from(this.entries.keys())) {
      if (p < from || p > from + ahead) this.drop(p);
    }
  }

  // An audio element let go of `url`: revoke it unless an entry still holds it.
  release(url) {
    if (url && url.startsWith("blob:") && !this.usedBy(url) && !this.inDeck(url)) URL.revokeObjectURL(url);
  }
}

// A busy server (503) or a client with enough under way (429) says when to come back: wait
// that long (at most 5 s a time) and ask again, a few times, before giving up.
const RETRIES = 4;

async function fetchPatiently(url, signal) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { signal });
    if (![429, 503].includes(response.status) || attempt >= RETRIES) return response;
    const seconds = Math.min(Number(response.headers.get("Retry-After")) || 1, 5);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, seconds * 1000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new DOMException("Aborted", "AbortError"));
      }, { once: true });
    });
  }
}

async function problemMessage(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}
