// "Download audio": asks the server to narrate the whole text in the background (a job),
// shows its progress, announces it politely now and then (not every percent), and offers
// the file when it is done. Closing the dialog leaves the job running; Cancel stops it.

const ANNOUNCE_EVERY_MS = 15000; // a progress announcement at most this often
const ANNOUNCE_STEP = 25; // ... and only when this many more percent are done

export function initDownload({ docId, voice, openButton }) {
  const $ = (id) => document.getElementById(id);
  const dialog = $("download");
  const form = $("download-form");
  const bar = $("download-bar");
  const stateText = $("download-state");
  const status = $("download-status");
  const cancel = $("download-cancel");
  const result = $("download-result");
  let job = null;
  let source = null;
  let lastSaid = { at: 0, percent: 0 };
  let opener = null;

  const say = (message) => {
    status.textContent = "";
    setTimeout(() => { status.textContent = message; }, 100);
  };

  function show(data) {
    job = data;
    const percent = Math.round((data.progress || 0) * 100);
    bar.value = data.status === "done" ? 100 : percent;
    bar.setAttribute("aria-valuetext", `${percent} percent`);
    const left = data.eta ? `, about ${Math.max(1, Math.round(data.eta / 60))} min left` : "";
    const words = {
      queued: "Waiting to start…",
      running: `${data.done} of ${data.total} sentences read${left}.`,
      done: `Done: ${Math.round(data.seconds / 60) || "under 1"} min of audio.`,
      failed: `It could not be made: ${data.error || "unknown error"}.`,
      cancelled: "Cancelled.",
    };
    stateText.textContent = words[data.status] || data.status;
    const active = data.status === "queued" || data.status === "running";
    cancel.hidden = !active;
    $("download-start").disabled = active;
    if (data.status === "running") {
      const now = Date.now();
      if (now - lastSaid.at > ANNOUNCE_EVERY_MS && percent - lastSaid.percent >= ANNOUNCE_STEP) {
        lastSaid = { at: now, percent };
        say(`Audio ${percent} percent made.`);
      }
    }
    if (data.status === "done") {
      const link = $("download-link");
      link.href = data.file;
      result.hidden = false;
      say("The audio is ready. Use Save the file.");
    } else if (data.status === "failed" || data.status === "cancelled") {
      say(stateText.textContent);
    }
  }

  function follow(data) {
    show(data);
    if (source) source.close();
    if (data.status !== "queued" && data.status !== "running") return;
    source = new EventSource(data.events);
    for (const kind of ["progress", "done", "failed", "cancelled"]) {
      source.addEventListener(kind, (event) => {
        const next = JSON.parse(event.data);
        show(next);
        if (kind !== "progress") { source.close(); source = null; }
      });
    }
    // The server may refuse a stream when it has many open (503): then ask now and then instead.
    source.addEventListener("error", () => {
      if (!source || source.readyState !== EventSource.CLOSED) return;
      source = null;
      setTimeout(() => poll(data.url), 2000);
    });
  }

  async function poll(url) {
    const response = await fetch(url).catch(() => null);
    const next = response?.ok ? await response.json() : job;
    if (next.status === "queued" || next.status === "running") {
      show(next);
      setTimeout(() => poll(url), 2000);
    } else {
      show(next);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const format = new FormData(form).get("format");
    result.hidden = true;
    $("download-progress").hidden = false;
    lastSaid = { at: Date.now(), percent: 0 };
    say("Making the audio. You can keep reading; this dialog can be closed.");
    const response = await fetch(`/api/documents/${encodeURIComponent(docId)}/narrations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ voice: voice(), format }),
    }).catch(() => null);
    if (!response) { stateText.textContent = "The server could not be reached."; say(stateText.textContent); return; }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      stateText.textContent = body.detail || `The server said ${response.status}.`;
      say(stateText.textContent);
      return;
    }
    follow(body);
  });

  cancel.addEventListener("click", async () => {
    if (!job) return;
    const response = await fetch(job.url, { method: "DELETE" }).catch(() => null);
    if (response?.ok) follow(await response.json());
  });

  openButton.addEventListener("click", () => {
    opener = document.activeElement;
    $("download-voice").textContent = document.querySelector("#voice option:checked")?.textContent || voice();
    dialog.showModal();
  });
  $("download-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener && document.contains(opener)) opener.focus();
  });
}
