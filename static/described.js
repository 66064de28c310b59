// "What the images show": each image description is read aloud on request, with the voice
// chosen in the player, through the free-text speech endpoint. The reading of the text is
// paused first, so the two do not speak at once.

export function initDescriptions({ pause, voice }) {
  const status = document.getElementById("alt-status");
  let audio = null;
  for (const button of document.querySelectorAll(".read-alt")) {
    button.addEventListener("click", async () => {
      pause();
      audio?.pause();
      button.disabled = true;
      try {
        const response = await fetch("/api/speech", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ text: button.dataset.text, voice: voice() || undefined }),
        });
        if (!response.ok) {
          const problem = await response.json().catch(() => ({}));
          throw new Error(problem.detail || "The description could not be read aloud.");
        }
        const url = URL.createObjectURL(await response.blob());
        audio = new Audio(url);
        audio.addEventListener("ended", () => URL.revokeObjectURL(url), { once: true });
        await audio.play();
        if (status) status.textContent = "Reading the image description.";
      } catch (error) {
        if (status) status.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
  }
}
