// What dictation does to a field: insert at the caret (replacing a selection), "delete that"
// and "undo", each remembered so that it can be taken back, and never over a change made by
// hand. The widget (dictate.js) reports what happened; this module only edits.

import { fitIn, interpret } from "./dictate-text.js";

const SELECTABLE_TYPES = new Set(["", "text", "search", "tel", "url"]);
const CHANGED_BY_HAND = "The field was changed by hand since, so dictation leaves it as it is.";

// Email and number inputs have no selection API: text goes at their end.
function selectable(field) {
  return field.tagName === "TEXTAREA"
    || SELECTABLE_TYPES.has((field.getAttribute("type") || "").toLowerCase());
}

export class FieldEditor {
  // report: { done(message, announcement), fail(message) }; "{field}" in an announcement
  // stands for the field's name.
  constructor(field, kind, report) {
    Object.assign(this, { field, kind, report });
    this.inserts = []; // dictation's insertions still in the field: {before, after, at, caret}
    this.actions = []; // what "undo" takes back: {type: "insert" | "delete", change}
  }

  // A transcript, as spoken commands or text for this kind of field.
  apply(transcript) {
    const action = interpret(transcript, { kind: this.kind });
    if (action.type === "undo") return this.undo();
    if (action.type === "delete") return this.deleteLast();
    if (action.type === "discard") {
      return this.report.done("Scratched what you just said. Nothing was changed.", "Scratched. Nothing was changed.");
    }
    if (!action.text) return this.report.fail("Nothing that fits this field was heard. Please try again.");
    return this.insert(action.text);
  }

  insert(text) {
    const f = this.field;
    let start = f.value.length;
    let end = start;
    if (selectable(f)) {
      start = f.selectionStart ?? start;
      end = f.selectionEnd ?? end;
    } else if ((this.kind === "email" && text.includes("@") && f.value.includes("@"))
               || f.type === "number") {
      start = 0; // email and number fields hide the caret: a whole new value replaces the old
    }
    const piece = fitIn(f.value, start, end, text, this.kind);
    const next = f.value.slice(0, start) + piece + f.value.slice(end);
    if (f.maxLength > 0 && next.length > f.maxLength) {
      return this.report.fail(`“${text}” does not fit: this field takes at most ${f.maxLength} characters.`);
    }
    const change = { before: f.value, after: next, caret: start + piece.length, at: start };
    this.write(next, change.caret, piece);
    this.inserts.push(change);
    this.actions.push({ type: "insert", change });
    return this.report.done(`Added “${text.trim()}”. Say “delete that” to take it out.`, `Added to {field}: ${text.trim()}`);
  }

  write(value, caret, data) {
    const f = this.field;
    f.value = value;
    if (selectable(f)) f.setSelectionRange(caret, caret);
    // Frameworks listen for these; a plain form does not need them.
    f.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data }));
    f.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // "delete that": take out the latest dictated text still in the field as it was left;
  // said again, the one before it.
  deleteLast() {
    const change = this.inserts.at(-1);
    if (!change) return this.report.fail("There is no dictated text to delete.");
    if (change.after !== this.field.value) return this.report.fail(CHANGED_BY_HAND);
    this.inserts.pop();
    this.actions.push({ type: "delete", change });
    this.write(change.before, change.at, "");
    return this.report.done("Deleted what was dictated last. Say “undo” to bring it back.", "Deleted from {field}.");
  }

  // Whether "undo" would do something now (nothing was changed by hand since).
  canUndo() {
    const action = this.actions.at(-1);
    if (!action) return false;
    return (action.type === "insert" ? action.change.after : action.change.before) === this.field.value;
  }

  // "undo": take back the last thing dictation did, an insertion or a deletion.
  undo() {
    const action = this.actions.at(-1);
    const expected = action && (action.type === "insert" ? action.change.after : action.change.before);
    if (!action || expected !== this.field.value) {
      return this.report.fail(action ? CHANGED_BY_HAND : "There is nothing to undo.");
    }
    this.actions.pop();
    const { change } = action;
    if (action.type === "insert") {
      this.inserts.pop();
      this.write(change.before, change.at, "");
    } else {
      this.inserts.push(change);
      this.write(change.after, change.caret, "");
    }
    return this.report.done("Undone.", "Undone in {field}.");
  }
}
