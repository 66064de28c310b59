// The privacy page: forget everything Reader keeps in this browser (all "reader.*" keys).

const button = document.getElementById("forget-browser");
const status = document.getElementById("forget-browser-status");

button?.addEventListener("click", () => {
  let count = 0;
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("reader.")) {
        localStorage.removeItem(key);
        count++;
      }
    }
    status.textContent = count
      ? "Done: this browser keeps nothing for Reader now (settings, voice, places in texts)."
      : "This browser kept nothing for Reader.";
  } catch {
    status.textContent = "This browser does not let Reader use its storage, so it keeps nothing.";
  }
});
