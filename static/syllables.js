// Syllable breaks, shown on request (a reading setting): the server says where they fall in
// each sentence, and a mark (a dot drawn by CSS, hidden from screen readers) goes there. The
// text itself is unchanged, so word timings, selection and copying are unaffected.

const root = document.documentElement;

export function initSyllables({ article, docId }) {
  let done = null;

  async function mark() {
    const response = await fetch(`/api/documents/${encodeURIComponent(docId)}/syllables`).catch(() => null);
    if (!response?.ok) return;
    const { sentences } = await response.json();
    for (const span of article.querySelectorAll(".sentence")) {
      const cuts = sentences[span.dataset.index];
      if (cuts?.length) insertMarks(span, cuts);
    }
    root.dataset.syllablesReady = "true";
  }

  return {
    update() {
      if (root.dataset.syllables === "on" && !done) done = mark();
    },
  };
}

// Splits the span's text nodes at the offsets (into its whole text) and puts a mark at each.
function insertMarks(span, cuts) {
  const walker = document.createTreeWalker(span, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  let start = 0;
  let k = 0;
  for (const node of nodes) {
    const end = start + node.data.length;
    const inside = [];
    while (k < cuts.length && cuts[k] < end) {
      if (cuts[k] > start) inside.push(cuts[k] - start);
      k++;
    }
    let rest = node;
    for (const at of inside.reverse()) {
      const tail = rest.splitText(at);
      const markEl = document.createElement("span");
      markEl.className = "syl";
      markEl.setAttribute("aria-hidden", "true");
      tail.before(markEl);
    }
    start = end;
  }
}
