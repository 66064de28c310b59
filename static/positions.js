// Where in the text: the sentence under a selection or the text caret, the paragraphs
// (blocks: paragraphs, headings, list items) around a sentence, and how long is left.

const CHARS_PER_SECOND = 14; // speech at 1x until real durations are known

// The index in `spans` of the sentence holding the selection (or, with `caret`, the
// collapsed text caret of caret browsing) inside `article`, or null. A used selection is
// collapsed, so that a later Play resumes instead of jumping back to it.
export function sentenceAtSelection(article, spans, caret) {
  const sel = document.getSelection();
  if (!sel || sel.rangeCount === 0 || (sel.isCollapsed && !caret)) return null;
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
  if (!sel.isCollapsed) sel.collapseToStart();
  return p;
}

const blockOf = (spans, p) => spans[p].closest("[data-block]");

// The first sentence of the block that holds sentence p.
export function blockStart(spans, p) {
  let q = p;
  while (q > 0 && blockOf(spans, q - 1) === blockOf(spans, p)) q--;
  return q;
}

// Forward: the first sentence of the next block. Back: the start of this block, or, from
// its first sentence, the start of the one before (as media players do with tracks).
// null past either end.
export function blockStep(spans, p, delta) {
  if (delta > 0) {
    for (let q = p + 1; q < spans.length; q++) {
      if (blockOf(spans, q) !== blockOf(spans, p)) return q;
    }
    return null;
  }
  const first = blockStart(spans, p);
  if (first < p) return first;
  return first > 0 ? blockStart(spans, first - 1) : null;
}

// Seconds of speech from sentence `from` to the end at 1x: known durations where there
// are some, otherwise the text's length at the speaking rate measured so far.
// `currentLeft`: what is left of sentence `from` itself, when it is playing.
export function secondsLeft({ lengths, durations, from, currentLeft = null }) {
  let chars = 0;
  let seconds = 0;
  for (const [p, d] of durations) {
    chars += lengths[p];
    seconds += d;
  }
  const cps = seconds > 2 ? chars / seconds : CHARS_PER_SECOND;
  let left = currentLeft ?? durations.get(from) ?? lengths[from] / cps;
  for (let p = from + 1; p < lengths.length; p++) left += durations.get(p) ?? lengths[p] / cps;
  return left;
}

export function formatDuration(seconds) {
  if (seconds < 60) return `${Math.max(5, Math.round(seconds / 5) * 5)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
