// A long scan being read: follow its progress and open the text when it is there. The status is
// announced politely every few pages, not on every poll; the page moves on by itself when done.
const section = document.getElementById("import");
const progress = document.getElementById("import-progress");
const status = document.getElementById("import-status");
const POLL_MS = 1500;
const ANNOUNCE_EVERY = 5; // pages

async function follow() {
  if (!section || !progress || !status) return;
  let announced = Number(progress.value);
  for (;;) {
    let job;
    try {
      const resp = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
      job = await resp.json();
      if (!resp.ok) throw new Error(job.detail || resp.statusText);
    } catch (err) {
      status.textContent = `Could not ask how far the reading is (${err.message}); trying again.`;
      await new Promise((r) => setTimeout(r, POLL_MS * 4));
      continue;
    }
    progress.max = job.total;
    progress.value = job.done;
    if (job.status === "done" && job.read) {
      status.textContent = "All pages read. Opening the text.";
      const open = document.getElementById("import-open");
      const link = document.getElementById("import-link");
      if (open && link) {
        link.href = job.read;
        open.hidden = false;
      }
      window.location.assign(job.read);
      return;
    }
    if (job.status === "failed") {
      status.textContent = `The scan could not be read: ${job.error}`;
      return;
    }
    if (job.done - announced >= ANNOUNCE_EVERY || (job.done === job.total && job.done !== announced)) {
      status.textContent = `${job.done} of ${job.total} pages read.`;
      announced = job.done;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

follow();
