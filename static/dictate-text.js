// What a transcript means for a form field: spoken commands ("comma", "new line",
// "delete that", "undo") and formatting by the kind of field (email, phone, number, name).
// Pure functions, no DOM beyond reading a field's attributes: dictate.js does the rest.

const PUNCTUATION = [
  [["new", "paragraph"], "\n\n"],
  [["new", "line"], "\n"],
  [["question", "mark"], "?"],
  [["exclamation", "mark"], "!"],
  [["exclamation", "point"], "!"],
  [["full", "stop"], "."],
  [["period"], "."],
  [["comma"], ","],
  [["semicolon"], ";"],
  [["colon"], ":"],
];
const SENTENCE_END = /[.?!]$/;
const WORD = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/su;
const AUTO_PUNCTUATION = /[.,;:!?]+$/; // what Whisper adds by itself around a spoken command

const NAME_FIELDS = new Set(["name", "given-name", "family-name", "additional-name", "nickname",
  "honorific-prefix", "honorific-suffix", "address-level1", "address-level2", "address-level3",
  "country-name", "cc-name", "cc-given-name", "cc-family-name", "organization"]);
const NUMBER_FIELDS = new Set(["bday-day", "bday-year", "cc-exp-year", "cc-number", "cc-csc",
  "one-time-code", "transaction-amount"]);
const MONTH_FIELDS = new Set(["bday-month", "cc-exp-month"]);

// The kind of field, from type, inputmode and autocomplete (its last token, so that
// "shipping email" and "section-x tel" count too).
export function fieldKind(field) {
  const multiline = field.tagName === "TEXTAREA";
  const type = (field.getAttribute("type") || "text").toLowerCase();
  const mode = (field.getAttribute("inputmode") || "").toLowerCase();
  const tokens = (field.getAttribute("autocomplete") || "").toLowerCase().split(/\s+/);
  const auto = tokens.filter((t) => t && t !== "on" && t !== "off").pop() || "";
  let kind = multiline ? "text" : "line";
  if (type === "email" || mode === "email" || auto === "email") kind = "email";
  else if (type === "tel" || mode === "tel" || auto.startsWith("tel")) kind = "tel";
  else if (type === "url" || mode === "url" || auto === "url" || auto === "photo") kind = "url";
  else if (MONTH_FIELDS.has(auto)) kind = "month";
  else if (type === "number" || mode === "numeric" || mode === "decimal" || NUMBER_FIELDS.has(auto)) {
    kind = "number";
  } else if (auto === "postal-code") kind = "postal";
  else if (NAME_FIELDS.has(auto)) kind = "name";
  return { kind, multiline, decimal: mode === "decimal" };
}

function words(text) {
  return text.trim().split(/\s+/).filter(Boolean).map((raw) => {
    const [, lead, core, trail] = WORD.exec(raw);
    return { raw, lead, core, trail, key: core.toLowerCase() };
  });
}

// What to do with a transcript: {type: "text", text} | {type: "delete"} (remove what was
// dictated last) | {type: "undo"} | {type: "discard"} (the utterance ended in "scratch
// that": nothing of it is kept). Commands are whole utterances, or end one, so that
// "undo" or "delete that" in the middle of a sentence stay words.
export function interpret(transcript, { kind = "text" } = {}) {
  const list = words(transcript);
  const keys = list.map((w) => w.key).filter(Boolean);
  const said = keys.join(" ");
  if (said === "undo" || said === "undo that") return { type: "undo" };
  if (/(^|\s)(delete|scratch) that$/.test(said)) {
    return keys.length === 2 ? { type: "delete" } : { type: "discard" };
  }
  let text;
  if (kind === "email") text = formatEmail(list);
  else if (kind === "url") text = formatUrl(list);
  else if (kind === "tel") text = formatNumber(list, { phone: true });
  else if (kind === "number") text = formatNumber(list, {});
  else if (kind === "month") text = formatNumber(list, { month: true });
  else text = formatText(list, kind);
  return { type: "text", text };
}

// Free text: spoken punctuation becomes punctuation; single-line fields get no line
// breaks and no trailing full stop; names are capitalised.
function formatText(list, kind) {
  const out = []; // pieces: words, or punctuation glued to what is before it
  let capitalise = false;
  for (let i = 0; i < list.length; i++) {
    const match = PUNCTUATION.find(([phrase]) =>
      phrase.every((p, k) => list[i + k] && list[i + k].key === p));
    if (match) {
      const [phrase, mark] = match;
      if (out.length) out[out.length - 1] = out[out.length - 1].replace(AUTO_PUNCTUATION, "");
      const put = kind === "text" ? mark : mark.replace(/\n+/g, " ");
      out.push(put);
      capitalise = /[.?!\n]$/.test(put);
      i += phrase.length - 1;
      continue;
    }
    let word = list[i].raw;
    if (capitalise) word = capitaliseFirst(word);
    capitalise = false;
    out.push(word);
  }
  let text = "";
  for (const piece of out) {
    if (!text || /^[.,;:!?\n ]/.test(piece) || text.endsWith("\n")) text += piece;
    else text += ` ${piece}`;
  }
  text = text.replace(/ +\n/g, "\n").replace(/[ \t]+$/g, "");
  if (kind !== "text") text = text.replace(/\s+/g, " ").trim().replace(/\.$/, "");
  if (kind === "name") text = text.replace(/(^|[\s-])(\p{Ll})/gu, (_, a, b) => a + b.toUpperCase());
  if (kind === "postal") text = text.toUpperCase();
  return text;
}

const EMAIL_WORDS = { at: "@", dot: ".", period: ".", point: ".", underscore: "_", dash: "-",
  hyphen: "-", minus: "-", plus: "+" };
const URL_WORDS = { dot: ".", period: ".", point: ".", slash: "/", colon: ":", dash: "-",
  hyphen: "-", underscore: "_" };

// "John dot Smith at example dot com." -> "john.smith@example.com"
function formatEmail(list) {
  const parts = list.map((w) => {
    if (EMAIL_WORDS[w.key]) return EMAIL_WORDS[w.key];
    return (w.lead + w.core + w.trail).toLowerCase().replace(/[^\p{L}\p{N}@._+-]/gu, "");
  });
  return squeeze(digitsInWords(parts).join(""));
}

function formatUrl(list) {
  const parts = list.map((w) => URL_WORDS[w.key]
    ?? (w.lead + w.core + w.trail).toLowerCase().replace(/[^\p{L}\p{N}:/?#&=%@._~+-]/gu, ""));
  return squeeze(parts.join(""));
}

function squeeze(text) {
  return text.replace(/\.{2,}/g, ".").replace(/^[.]+|[.,;:!?]+$/g, "");
}

// Spoken digits inside an email ("john two at ...") become digits.
function digitsInWords(parts) {
  return parts.map((p) => (p in SMALL && SMALL[p] < 10 && p !== "o" ? String(SMALL[p]) : p));
}

const SMALL = { zero: 0, oh: 0, o: 0, nought: 0, one: 1, two: 2, three: 3, four: 4, five: 5,
  six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, thirteen: 13,
  fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19 };
const TENS = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90 };
const ORDINALS = { first: "one", second: "two", third: "three", fourth: "four", fifth: "five",
  sixth: "six", seventh: "seven", eighth: "eight", ninth: "nine", tenth: "ten",
  eleventh: "eleven", twelfth: "twelve", twentieth: "twenty", thirtieth: "thirty" };
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
  "september", "october", "november", "december"];
const FILLERS = new Set(["and", "the", "of", "a", "number", "is", "it's", "its"]);

// Words and digits -> a string of digits. Without "hundred" or "thousand", each spoken
// group is written out in turn, as people say phone numbers and years: "nineteen
// ninety" -> 1990, "oh two oh seven" -> 0207, "double five" -> 55. With them, it is a
// cardinal: "two thousand and three" -> 2003.
function formatNumber(list, { phone = false, month = false }) {
  const tokens = [];
  let plus = false;
  for (const w of list) {
    for (let t of w.key.split("-")) {
      t = t.replace(/(\d)(st|nd|rd|th)$/, "$1");
      if (ORDINALS[t]) t = ORDINALS[t];
      else if (/^\p{L}+teenth$/u.test(t)) t = t.slice(0, -2);
      if (month && MONTHS.some((m) => t.length >= 3 && m.startsWith(t))) {
        t = String(MONTHS.findIndex((m) => m.startsWith(t)) + 1);
      }
      if (t === "plus" && !tokens.length) plus = true;
      else if (t && !FILLERS.has(t)) tokens.push(t);
    }
  }
  let digits;
  if (tokens.some((t) => t === "hundred" || t === "thousand" || t === "million")) {
    digits = cardinal(tokens);
  } else {
    digits = "";
    let repeat = 1;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === "double" || t === "triple") {
        repeat = t === "double" ? 2 : 3;
        continue;
      }
      let chunk = "";
      if (/^\d+$/.test(t)) chunk = t;
      else if (t in TENS) {
        const unit = SMALL[tokens[i + 1]];
        if (unit !== undefined && unit > 0 && unit < 10 && tokens[i + 1] !== "o") {
          chunk = String(TENS[t] + unit);
          i++;
        } else {
          chunk = String(TENS[t]);
        }
      } else if (t in SMALL) chunk = String(SMALL[t]);
      else if (phone || /^[\d.,]+$/.test(t)) chunk = t.replace(/[^\d]/g, "");
      digits += chunk.repeat(repeat);
      repeat = 1;
    }
  }
  digits = digits.replace(/[^\d]/g, "");
  return plus && phone ? `+${digits}` : digits;
}

function cardinal(tokens) {
  let total = 0;
  let current = 0;
  for (const t of tokens) {
    if (/^\d+$/.test(t)) current += Number(t);
    else if (t in SMALL) current += SMALL[t];
    else if (t in TENS) current += TENS[t];
    else if (t === "hundred") current *= 100;
    else if (t === "thousand") { total += current * 1000; current = 0; }
    else if (t === "million") { total += current * 1_000_000; current = 0; }
  }
  return String(total + current);
}

// "hello" -> "Hello", "(hello" -> "(Hello"; "John" stays as it is.
function capitaliseFirst(word) {
  return word.replace(/^([^\p{L}\p{N}]*)(\p{Ll})/u, (_, lead, c) => lead + c.toUpperCase());
}

// Where `text` lands in `value` between `start` and `end`: the spaces and capital it
// needs there. Returns the piece to insert.
export function fitIn(value, start, end, text, kind) {
  if (!text) return text;
  const joined = ["email", "tel", "number", "month", "url"].includes(kind);
  if (joined) return text;
  const before = value.slice(0, start);
  const after = value.slice(end);
  let piece = text;
  const atSentenceStart = !before.trim() || SENTENCE_END.test(before.trimEnd()) || /\n\s*$/.test(before);
  if (atSentenceStart && kind !== "postal") piece = capitaliseFirst(piece);
  if (before && !/\s$/.test(before) && !/^[.,;:!?\s]/.test(piece)) piece = ` ${piece}`;
  if (after && !/^[\s.,;:!?]/.test(after) && !/\s$/.test(piece)) piece = `${piece} `;
  return piece;
}

// How a value should be spoken back: addresses and numbers as people say them.
export function speakable(value, kind) {
  if (kind === "email" || kind === "url") {
    return value.replace(/@/g, " at ").replace(/\./g, " dot ").replace(/_/g, " underscore ")
      .replace(/-/g, " dash ").replace(/\s+/g, " ").trim();
  }
  if (kind === "tel" || kind === "number") return value.replace(/\d/g, "$& ").trim();
  return value;
}
