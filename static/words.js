// The word highlight: the sentence being read is split into word spans only while it is
// read (the document stays plain text for screen readers the rest of the time), and the
// word whose time has come is marked on every animation frame.

export class WordHighlighter {
  constructor(clock) {
    this.clock = clock; // () => the playing audio's currentTime
    this.words = [];
    this.index = -1;
    this.frame = 0;
    this.span = null;
    this.original = null;
  }

  // Word timings [{start, end, t0, t1}] as offsets into the span's text.
  prepare(span, timings, running) {
    this.stop();
    const text = span.textContent;
    const list = timings
      .filter((w) => Number.isInteger(w.start) && Number.isInteger(w.end)
        && w.start >= 0 && w.end > w.start && w.end <= text.length)
      .sort((a, b) => a.start - b.start);
    if (!list.length) return;
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const w of list) {
      if (w.start < at) continue; // overlapping timings: keep the first
      if (w.start > at) fragment.append(text.slice(at, w.start));
      const el = document.createElement("span");
      el.className = "word";
      el.textContent = text.slice(w.start, w.end);
      fragment.append(el);
      this.words.push({ el, t0: Number(w.t0) || 0 });
      at = w.end;
    }
    if (at < text.length) fragment.append(text.slice(at));
    span.dataset.text = text;
    // What the sentence holds besides its text (links, syllable marks) comes back afterwards.
    this.original = Array.from(span.childNodes);
    span.replaceChildren(fragment);
    this.span = span;
    if (running) this.run();
  }

  run() {
    cancelAnimationFrame(this.frame);
    if (!this.words.length) return;
    const tick = () => {
      const t = this.clock();
      let i = -1;
      for (let k = 0; k < this.words.length && this.words[k].t0 <= t; k++) i = k;
      if (i !== this.index) {
        this.words[this.index]?.el.classList.remove("word-current");
        this.words[i]?.el.classList.add("word-current");
        this.index = i;
      }
      this.frame = requestAnimationFrame(tick);
    };
    tick();
  }

  // `unwrap`: the sentence is left, so its text is made whole again; without it (a
  // pause) the word spans stay and the highlight picks up again on resume.
  stop(unwrap = true) {
    cancelAnimationFrame(this.frame);
    if (!unwrap) return;
    this.words[this.index]?.el.classList.remove("word-current");
    this.index = -1;
    this.words = [];
    if (this.span && this.span.dataset.text !== undefined) {
      if (this.original) this.span.replaceChildren(...this.original);
      else this.span.textContent = this.span.dataset.text;
      delete this.span.dataset.text;
    }
    this.original = null;
    this.span = null;
  }
}
