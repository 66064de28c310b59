// "Continue where I stopped", and the library of recent texts: for each document read in this
// browser, its title, where it came from, its length and the last sentence read. Kept in this
// browser only (localStorage); the privacy page clears it.

const KEY = "reader.resume";
const KEEP = 50; // documents remembered, most recent first

function all() {
  try {
    const data = JSON.parse(localStorage.getItem(KEY) || "{}");
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

function save(data) {
  const recent = Object.entries(data).sort((a, b) => (b[1].at || 0) - (a[1].at || 0));
  try {
    localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(recent.slice(0, KEEP))));
  } catch {
    /* storage off: nothing to resume next time */
  }
}

export function savedPosition(docId) {
  return all()[docId]?.index ?? null;
}

export function rememberPosition(docId, index, ordinal = null) {
  const data = all();
  data[docId] = { ...(data[docId] || {}), index: String(index), at: Date.now() };
  if (ordinal !== null) data[docId].done = ordinal;
  save(data);
}

// The reader page says what the document is, so the library can list it.
export function noteOpened(docId, { title, source, count }) {
  const data = all();
  data[docId] = { index: null, done: 0, ...(data[docId] || {}), title, source, count, at: Date.now() };
  save(data);
}

// The recent texts, most recent first: [{id, title, source, count, done, at}].
export function recentTexts() {
  return Object.entries(all())
    .filter(([, v]) => v.title)
    .sort((a, b) => (b[1].at || 0) - (a[1].at || 0))
    .map(([id, v]) => ({ id, ...v }));
}

export function forgetAll() {
  try { localStorage.removeItem(KEY); } catch { /* nothing kept */ }
}

// Read to the end: nothing to resume, but it stays in the library as finished.
export function markFinished(docId) {
  const data = all();
  if (!data[docId]) return;
  data[docId] = { ...data[docId], index: null, done: data[docId].count ?? data[docId].done, at: Date.now() };
  save(data);
}

export function forgetPosition(docId) {
  const data = all();
  delete data[docId];
  save(data);
}
