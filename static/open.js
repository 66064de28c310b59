// The home page's one way in: "Paste from the clipboard" fills the field (where the browser
// lets a page read the clipboard), and a file dropped anywhere on the form is the file to open.

const form = document.getElementById("open-form");
const field = document.getElementById("text");
const file = document.getElementById("file");
const zone = document.getElementById("drop-zone");
const status = document.getElementById("open-status");
const paste = document.getElementById("paste");

function say(message) {
  status.textContent = "";
  setTimeout(() => { status.textContent = message; }, 100);
}

if (form && navigator.clipboard?.readText) {
  paste.hidden = false;
  paste.addEventListener("click", async () => {
    try {
      const text = await navigator.clipboard.readText();
      if (!text.trim()) {
        say("The clipboard holds no text.");
        return;
      }
      field.value = text;
      field.focus();
      say("Pasted. Press Read aloud to open it.");
    } catch {
      say("The browser did not let Reader read the clipboard: paste into the field with Ctrl+V.");
    }
  });
}

if (form && zone) {
  for (const type of ["dragenter", "dragover"]) {
    form.addEventListener(type, (event) => {
      if (!event.dataTransfer?.types?.includes("Files")) return;
      event.preventDefault();
      zone.classList.add("drop-target");
    });
  }
  form.addEventListener("dragleave", (event) => {
    if (!form.contains(event.relatedTarget)) zone.classList.remove("drop-target");
  });
  form.addEventListener("drop", (event) => {
    const files = event.dataTransfer?.files;
    if (!files?.length) return;
    event.preventDefault();
    zone.classList.remove("drop-target");
    const chosen = new DataTransfer();
    chosen.items.add(files[0]);
    file.files = chosen.files;
    say(`${files[0].name} chosen. Press Read aloud to open it.`);
  });
}
