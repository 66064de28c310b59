// "Forget this text": after a confirmation, deletes the document on the server (with its audio
// and downloads) and the place kept in this browser, then goes home, where it is said.

import { forgetPosition } from "./resume.js";

export function initForget({ docId, openButton }) {
  const $ = (id) => document.getElementById(id);
  const dialog = $("forget");
  const error = $("forget-error");
  let opener = null;
  openButton.addEventListener("click", () => {
    opener = document.activeElement;
    error.hidden = true;
    dialog.showModal();
    $("forget-keep").focus(); // the safe choice first
  });
  $("forget-keep").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener && document.contains(opener)) opener.focus();
  });
  $("forget-confirm").addEventListener("click", async () => {
    const response = await fetch(`/api/documents/${encodeURIComponent(docId)}`, { method: "DELETE" })
      .catch(() => null);
    if (!response || (!response.ok && response.status !== 404)) {
      error.textContent = "It could not be forgotten: the server did not answer. Please try again.";
      error.hidden = false;
      return;
    }
    forgetPosition(docId);
    window.location.assign("/?forgotten=1");
  });
}
