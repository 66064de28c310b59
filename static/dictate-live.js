// Live dictation for dictate.js: while someone speaks, the recording so far goes to the server
// again and again (POST /api/transcriptions/live, partial=1), and the words come back as they
// are decoded. A word is settled once two passes in a row agree on it (and on everything before
// it); the words after it are shown as tentative. Settled words are not sent again: `offset`
// tells the server where the unsettled audio starts. The final text still comes from the
// one-shot transcription of the whole recording on stop: this is only what the user sees meanwhile.

import { problem, UNREACHABLE } from "./dictate-record.js";

const MIN_GAP_MS = 300; // between the starts of two passes
const DUTY = 0.5; // a pass takes the server's CPU at most half of the time this client speaks
const BUSY_WAIT_MS = 1000; // after a 429: the server is busy with this client's other work
const SETTLE_SECONDS = 15; // past this much unsettled audio, move on at any settled word

function key(word) {
  return word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");
}

function wordsOf(text) {
  return text.split(/\s+/).filter(Boolean).map((t) => ({ text: t, start: null, end: null }));
}

export class LiveText {
  // `send(formData)` -> a fetch Response; `show({settled, tentative})` paints the preview.
  constructor({ url, language, show }) {
    Object.assign(this, { url, language, show });
    this.settled = []; // words two passes agreed on
    this.previous = []; // the last pass's words after the settled ones
    this.offset = 0; // seconds of audio settled: later passes start there
    this.sentAt = 0;
    this.tookMs = 0; // how long the last pass took
    this.running = false;
    this.controller = null;
    this.firstWordsAt = 0; // performance.now() when words were first shown
    this.nextAfter = 0; // seconds the server wants between passes; null: it takes no more
  }

  // Passes until stop(): `snapshot()` gives {blob, ext, seconds} of the recording so far.
  start(snapshot) {
    this.running = true;
    this.loop = (async () => {
      let lastSeconds = 0;
      while (this.running && this.nextAfter !== null) {
        // The server may ask for more time between passes (a cloud engine bills each one).
        // At most half the time: the server (on one host, often the same 2 cores as the browser
        // recording) has room for other work and other readers.
        const gap = Math.max(MIN_GAP_MS, this.tookMs / DUTY, (this.nextAfter || 0) * 1000);
        const wait = this.sentAt + gap - performance.now();
        if (wait > 0) await this.pause(wait);
        if (!this.running) break;
        const now = snapshot();
        if (!now || now.seconds <= lastSeconds + 0.2) { await this.pause(100); continue; }
        lastSeconds = now.seconds;
        this.sentAt = performance.now();
        const rest = await this.pass(now);
        this.tookMs = performance.now() - this.sentAt;
        if (rest && this.running) await this.pause(rest);
      }
    })();
  }

  // A wait that stop() cuts short: the final pass must not wait for the next live one.
  pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }

  // Ends the passes (the one under way is abandoned: the final transcription follows).
  async stop() {
    this.running = false;
    this.controller?.abort();
    this.wake?.();
    await this.loop?.catch(() => {});
  }

  text() {
    return [...this.settled, ...this.previous].map((w) => w.text).join(" ");
  }

  async pass({ blob, ext }) {
    const form = new FormData();
    form.append("file", blob, `dictation.${ext}`);
    form.append("partial", "1");
    form.append("offset", this.offset.toFixed(2));
    if (this.language) form.append("language", this.language);
    this.controller = new AbortController();
    let response;
    try {
      response = await fetch(this.url, { method: "POST", body: form, credentials: "omit",
        signal: this.controller.signal });
    } catch {
      return BUSY_WAIT_MS; // offline for a moment, or stopped: the final pass says what is wrong
    }
    if (response.status === 429 || response.status === 503) return BUSY_WAIT_MS;
    if (!response.ok || !response.body) return BUSY_WAIT_MS;
    let growing = "";
    try {
      for await (const event of lines(response.body)) {
        if (!this.running) return 0;
        if (event.type === "delta") {
          growing += event.text;
          const heard = wordsOf(growing.trim());
          this.paint(heard.slice(this.overlap(heard)));
        } else if (event.type === "done") {
          if (event.next_after !== undefined) this.nextAfter = event.next_after; // null: no more passes
          this.agree(event);
        } else if (event.type === "error") {
          return BUSY_WAIT_MS;
        }
      }
    } catch {
      return BUSY_WAIT_MS;
    }
    return 0;
  }

  // LocalAgreement: the words this pass and the last one agree on, from the start, are settled.
  agree(done) {
    if (done.offset > this.offset + 0.01) { // the server slid its window on: settle what was shown
      this.settled.push(...this.previous);
      this.previous = [];
      this.offset = done.offset;
    }
    const timed = done.words.length > 0;
    let words = timed ? done.words.filter((w) => w.end > this.offset + 0.05) : wordsOf(done.text);
    if (timed) words = words.slice(this.overlap(words));
    let same = 0;
    while (same < words.length && same < this.previous.length
           && key(words[same].text) === key(this.previous[same].text)) same++;
    if (!timed) { // no word times (a cloud engine): nothing can be cut from the audio
      this.settled = words.slice(0, same);
      this.previous = words.slice(same);
      this.paint([]);
      return;
    }
    const agreed = words.slice(0, same);
    this.settled.push(...agreed);
    this.previous = words.slice(same);
    // Move the offset on at the end of a settled sentence, or at any settled word once the
    // unsettled audio grows long: the audio before it is not decoded again.
    for (let i = agreed.length - 1; i >= 0; i--) {
      const sentenceEnd = /[.?!]["”’)]*$/.test(agreed[i].text);
      if (sentenceEnd || done.duration - this.offset > SETTLE_SECONDS) {
        this.offset = Math.max(this.offset, agreed[i].end);
        break;
      }
    }
    this.paint([]);
  }

  // How many of a pass's first words are settled already: the settled words after the offset
  // are heard again (the offset moves at sentence ends), by their words or else by their times.
  overlap(words) {
    const after = this.settled.filter((w) => w.end > this.offset + 0.05);
    if (!after.length) return 0;
    const same = after.every((w, i) => words[i] && key(words[i].text) === key(w.text));
    if (same || words[0]?.end == null) return after.length;
    const last = after[after.length - 1].end;
    return words.filter((w) => w.end <= last + 0.1).length;
  }

  paint(extra) {
    const tentative = extra.length ? extra : this.previous;
    const settled = this.settled.map((w) => w.text).join(" ");
    const rest = tentative.map((w) => w.text).join(" ");
    if ((settled || rest) && !this.firstWordsAt) this.firstWordsAt = performance.now();
    this.show({ settled, tentative: rest });
  }
}

/** The final pass on stop: the whole recording, listening for what a field of kind `field`
 * takes (the commands, spoken digits); `onText(text)` is told the text as it is decoded.
 * Resolves to the text; throws with the server's reason. */
export async function transcribeWhole(url, { blob, ext }, language, onText, field = "") {
  const form = new FormData();
  form.append("file", blob, `dictation.${ext}`);
  form.append("partial", "0");
  if (field) form.append("field", field); // what the recogniser listens for: commands, digits, none
  if (language) form.append("language", language);
  let response;
  try {
    response = await fetch(url, { method: "POST", body: form, credentials: "omit" });
  } catch {
    throw new Error(UNREACHABLE);
  }
  if (!response.ok) throw new Error(await problem(response));
  let growing = "";
  try {
    for await (const event of lines(response.body)) {
      if (event.type === "delta") {
        growing += event.text;
        onText(growing.trim());
      } else if (event.type === "done") {
        return event.text;
      } else if (event.type === "error") {
        throw new Error(event.detail || event.title || "The transcription failed.");
      }
    }
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof TypeError) throw new Error(UNREACHABLE);
    throw err;
  }
  throw new Error("The server sent no text.");
}

// The JSON events of an application/x-ndjson body, as they arrive.
async function* lines(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}
