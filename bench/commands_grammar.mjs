// Reads {voice, phrase, field, start, text} lines on stdin and prints, for each, what
// dictate.js's FieldEditor leaves in a field after `start` was dictated into it and then
// `text` was heard: the same code the page runs (static/dictate-edit.js), on a plain object.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

globalThis.InputEvent ??= class InputEvent extends Event {};
const root = process.argv[2];
const { FieldEditor } = await import(pathToFileURL(`${root}/static/dictate-edit.js`));

function field(type) {
  return {
    tagName: type === "textarea" ? "TEXTAREA" : "INPUT", type, value: "", maxLength: -1,
    selectionStart: 0, selectionEnd: 0,
    getAttribute() { return type === "textarea" ? null : type; },
    setSelectionRange(a, b) { this.selectionStart = a; this.selectionEnd = b; },
    dispatchEvent() { return true; },
  };
}

const report = { done() {}, fail() {} };
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const row = JSON.parse(line);
  const kind = row.field === "text" ? "text" : row.field;
  const f = field(kind === "text" ? "textarea" : kind);
  const editor = new FieldEditor(f, kind, report);
  if (row.start) editor.apply(row.start);
  editor.apply(row.text);
  console.log(JSON.stringify({ ...row, got: f.value }));
}
