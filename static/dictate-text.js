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
  let list = words(transcript);
  const near = nearCommand(list);
  if (near?.action) return near.action;
  // Misheard marks are put right in a message box only: a one-line field often holds a single
  // word or name ("Colin" in a town or subject field), and an address or number takes no marks.
  if (near && kind === "text") list = near.list;
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

// ---- near matches: a command misheard, standing on its own --------------------------------
//
// Spoken alone, commands are misheard in ways no rule of grammar catches: "comma" as
// "Comment." or "Kama.", "undo" as "And you.", "colon" as "Colin.", "question mark" as
// "Question more?". A near match is accepted only where a command stands on its own: as the
// whole utterance, or as a sentence of its own (Whisper ends one where the speaker paused) at
// its start or end; and it must sound alike (the same consonants, near enough, and the same
// number of vowel sounds). "Undo" and "delete that" are taken only as the whole utterance.

const NEAR_COMMANDS = [
  ...PUNCTUATION.map(([phrase]) => phrase),
  ["undo"], ["delete", "that"], ["scratch", "that"],
];
const EDGE_FILLERS = new Set(["and", "um", "uh", "er", "erm"]);
const WHOLE_ONLY = new Set(["undo", "delete that", "scratch that"]);

// "comment" -> "kamant", "Colin" -> "kalan", "and you" -> "anda": letters as they sound,
// each run of vowels one "a".
function soundKey(text) {
  return text.toLowerCase().replace(/[^a-z]/g, "")
    .replace(/ph/g, "f").replace(/ck/g, "k").replace(/[cq]/g, "k").replace(/x/g, "ks").replace(/z/g, "s")
    .replace(/(.)\1+/g, "$1").replace(/[aeiouy]+/g, "a");
}

function vowelSounds(text) {
  return (text.toLowerCase().replace(/e\b/g, "").match(/[aeiouy]+/g) || []).length;
}

function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = up;
    }
  }
  return row[b.length];
}

// Sounds alike: the same number of vowel sounds, and the consonants the same but for a
// letter or two. Two pieces of a different number of words must sound exactly alike ("and
// you" for "undo"), so that "Come in." stays words while "Comment." is a comma.
function soundsLike(piece, phrase) {
  const heard = piece.map((w) => w.core).join(" ");
  const meant = phrase.join(" ");
  const a = soundKey(heard);
  const b = soundKey(meant);
  if (!a || vowelSounds(heard) !== vowelSounds(meant)) return false;
  if (a === b) return true;
  if (piece.length !== phrase.length) return false;
  return distance(a, b) <= (Math.max(a.length, b.length) >= 6 ? 2 : 1);
}

function matchOf(piece) {
  if (!piece.length || piece.length > 3) return null;
  const keys = piece.map((w) => w.key).join(" ");
  return NEAR_COMMANDS.find((phrase) => phrase.join(" ") === keys)
    ?? NEAR_COMMANDS.find((phrase) => soundsLike(piece, phrase)) ?? null;
}

// The command a piece of an utterance stands for, if it is one (exactly or nearly), as heard
// or without a leading "and" or "um".
function commandOf(piece) {
  const found = matchOf(piece);
  if (found) return found;
  let rest = piece;
  while (rest.length > 1 && EDGE_FILLERS.has(rest[0].key)) rest = rest.slice(1);
  return rest === piece ? null : matchOf(rest);
}

function sentencesOf(list) {
  const out = [[]];
  for (const w of list) {
    out[out.length - 1].push(w);
    if (/[.?!]/.test(w.trail)) out.push([]);
  }
  return out.filter((s) => s.length);
}

// {action} for a whole-utterance command, {list} with a misheard command put right, or null.
function nearCommand(list) {
  if (!list.length) return null;
  const whole = commandOf(list);
  if (whole) {
    const said = whole.join(" ");
    if (said === "undo") return { action: { type: "undo" } };
    if (said === "delete that" || said === "scratch that") return { action: { type: "delete" } };
    return { list: words(said) };
  }
  const sentences = sentencesOf(list);
  if (sentences.length < 2) return null;
  const edges = [0, sentences.length - 1];
  let changed = false;
  for (const i of edges) {
    const phrase = commandOf(sentences[i]);
    if (!phrase || WHOLE_ONLY.has(phrase.join(" "))) continue;
    const exact = sentences[i].map((w) => w.key).join(" ") === phrase.join(" ");
    if (exact) continue; // formatText acts on it as it is
    sentences[i] = words(phrase.join(" "));
    changed = true;
  }
  return changed ? { list: sentences.flat() } : null;
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
    // "double-five", and "Double4" as Whisper writes "double four" now and then.
    for (let t of w.key.split(/-|(?<=\p{L})(?=\d)|(?<=\d)(?=\p{L})/u)) {
      t = t.replace(/(\d)(st|nd|rd|th)$/, "$1");
      if (ORDINALS[t]) t = ORDINALS[t];
      else if (/^\p{L}+teenth$/u.test(t)) t = t.slice(0, -2);
      if (month && MONTHS.some((m) => t.length >= 3 && m.startsWith(t))) {
        t = String(MONTHS.findIndex((m) => m.startsWith(t)) + 1);
      }
      if (t === "plus" && !tokens.length) plus = true;
      else if (t && !FILLERS.has(t)) tokens.push(numberWord(t));
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

// In a number field, a word that is no number is a number misheard: "to" is 2, "for" 4,
// "purple" (said "triple") triple. Words that sound like no number word stay as they are.
const HOMOPHONES = { to: "two", too: "two", for: "four", fore: "four", won: "one", ate: "eight",
  owe: "oh", tree: "three", free: "three", sex: "six", nigh: "nine", tin: "ten" };
const NUMBER_WORDS = [...Object.keys(SMALL), ...Object.keys(TENS), "double", "triple", "hundred", "thousand"];

// Soundex's classes of consonants that sound alike (b f p v, c g j k q s x z, d t, l, m n, r).
const CONSONANT_CLASS = Object.fromEntries(
  ["bfpv", "cgjkqsxz", "dt", "l", "mn", "r"].flatMap((letters, k) => [...letters].map((c) => [c, String(k + 1)])));

// The consonants after the first sound, by class, as Soundex codes them (a run of one class
// counts once; h and w do not part a run; vowels do): "purple" and "triple" are both 614,
// "dabble" and "double" both 14. A misheard word keeps its rhythm and its later consonants
// far more often than its first sound ("Purple nine" for "triple nine").
function afterFirstSound(word) {
  const letters = word.toLowerCase().replace(/[^a-z]/g, "");
  let code = "";
  let last = CONSONANT_CLASS[letters[0]] ?? "";
  for (const c of letters.slice(1)) {
    const k = CONSONANT_CLASS[c];
    if (k && k !== last) code += k;
    if (c !== "h" && c !== "w") last = k ?? "";
  }
  return code;
}

function numberWord(t) {
  if (t in SMALL || t in TENS || /^[\d.,]+$/.test(t) || NUMBER_WORDS.includes(t)) return t;
  if (HOMOPHONES[t]) return HOMOPHONES[t];
  // "Double fives.": a number word heard as its plural.
  const single = [t.slice(0, -1), t.slice(0, -2)].find((w) => t.endsWith("s") && (w in SMALL || w in TENS));
  if (single) return single;
  const piece = [{ core: t, key: t }];
  const near = NUMBER_WORDS.find((w) => w.length > 2 && soundsLike(piece, [w]));
  if (near) return near;
  // Else the one number word with the same vowel sounds and the same later consonants, if
  // there is just one and it has two or more ("down" could be nine, ten or one: it stays).
  const rest = afterFirstSound(t);
  const alike = NUMBER_WORDS.filter((w) => vowelSounds(w) === vowelSounds(t) && afterFirstSound(w) === rest);
  return rest.length >= 2 && alike.length === 1 ? alike[0] : t;
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
