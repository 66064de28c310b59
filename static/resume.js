// "Continue where I stopped": the last sentence of each document read in this browser.

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

export function rememberPosition(docId, index) {
  const data = all();
  data[docId] = { index: String(index), at: Date.now() };
  save(data);
}

export function forgetPosition(docId) {
  const data = all();
  delete data[docId];
  save(data);
}
