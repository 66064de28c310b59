// Recording for dictate.js: the microphone, MediaRecorder (webm/opus, else mp4), a level
// meter that also tells silence from speech, and the recording so far for live passes.

const MAX_SECONDS = 120;
const TIMESLICE_MS = 250;
const SILENCE_STOP_MS = 8000; // a toggled recording stops by itself after this much silence
const NO_SOUND_MS = 10000; // ... and after this long with no sound at all
const SPEECH_LEVEL = 0.01; // RMS above which the meter counts it as sound
const MIME_TYPES = [
  ["audio/webm;codecs=opus", "webm"],
  ["audio/webm", "webm"],
  ["audio/mp4;codecs=mp4a.40.2", "m4a"],
  ["audio/mp4", "m4a"],
  ["audio/ogg;codecs=opus", "ogg"],
];

export const UNREACHABLE = "The Reader server could not be reached. Check the connection and try again.";

/** The microphone's stream; throws an Error whose message says what to do. */
export async function openMicrophone() {
  if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    throw new Error("This browser cannot record here. Dictation needs a secure (https) page in a current browser.");
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (err) {
    throw new Error(microphoneError(err));
  }
}

function microphoneError(err) {
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return "Microphone access was refused. To dictate, allow this site to use the microphone (in the browser's address bar or site settings), then try again.";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect a microphone and try again.";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "The microphone could not be started. Another program may be using it.";
    default:
      return "The microphone could not be started.";
  }
}

// One recording. `onLevel(0..1)` feeds the meter; `autoStop()` is called when the
// recording should end by itself (too long, or silent for long); `held()` says whether the
// button is being held (push-to-talk: no stopping on silence then).
export class Recording {
  constructor(stream, { onLevel, autoStop, held }) {
    const [mime, ext] = MIME_TYPES.find(([m]) => MediaRecorder.isTypeSupported(m)) ?? ["", "webm"];
    try {
      this.recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
    } catch {
      stream.getTracks().forEach((t) => t.stop());
      throw new Error("This browser cannot record audio in a format Reader understands.");
    }
    Object.assign(this, { stream, ext, onLevel, autoStop, held });
    this.chunks = [];
    this.heard = false;
    this.startedAt = performance.now();
    this.lastSound = this.startedAt;
    this.done = new Promise((resolve) => {
      this.recorder.addEventListener("stop", () => resolve(this.finish()));
    });
    this.recorder.addEventListener("dataavailable", (e) => { if (e.data.size) this.chunks.push(e.data); });
    this.watchLevel();
    this.recorder.start(TIMESLICE_MS); // a chunk every so often: live passes read the recording so far
  }

  // The recording so far, for a live pass: {blob, ext, seconds}; null before the first chunk.
  snapshot() {
    if (!this.chunks.length) return null;
    const type = this.recorder.mimeType || this.chunks[0].type || "audio/webm";
    return { blob: new Blob(this.chunks, { type }), ext: this.ext,
      seconds: (performance.now() - this.startedAt) / 1000 };
  }

  // Resolves to {blob, ext, heard, cancelled}.
  stop({ cancel = false } = {}) {
    this.cancelled = cancel;
    if (this.recorder.state !== "inactive") this.recorder.stop();
    return this.done;
  }

  finish() {
    cancelAnimationFrame(this.frame);
    this.stream.getTracks().forEach((t) => t.stop()); // the browser's microphone light goes off
    this.ctx?.close().catch(() => {});
    const type = this.recorder.mimeType || this.chunks[0]?.type || "audio/webm";
    return { blob: new Blob(this.chunks, { type }), ext: this.ext, heard: this.heard, cancelled: !!this.cancelled };
  }

  watchLevel() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { this.heard = true; return; } // no meter: the server judges
    try {
      const ctx = new Ctx();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      ctx.createMediaStreamSource(this.stream).connect(analyser);
      this.ctx = ctx;
      if (ctx.state !== "running") ctx.resume().catch(() => {});
      const data = new Float32Array(analyser.fftSize);
      const tick = () => {
        if (this.recorder.state === "inactive") return;
        if (ctx.state !== "running") this.heard = true; // cannot measure: the server judges
        analyser.getFloatTimeDomainData(data);
        let sum = 0;
        for (const v of data) sum += v * v;
        const rms = Math.sqrt(sum / data.length);
        const now = performance.now();
        if (rms > SPEECH_LEVEL) { this.heard = true; this.lastSound = now; }
        this.onLevel(Math.min(1, rms * 8));
        const quiet = now - this.lastSound;
        if (now - this.startedAt > MAX_SECONDS * 1000
            || (!this.heard && quiet > NO_SOUND_MS)
            || (this.heard && !this.held() && quiet > SILENCE_STOP_MS)) {
          this.autoStop();
          return;
        }
        this.frame = requestAnimationFrame(tick);
      };
      this.frame = requestAnimationFrame(tick);
    } catch {
      this.heard = true;
    }
  }
}

export async function problem(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `the server answered ${response.status}`;
  } catch {
    return `the server answered ${response.status}`;
  }
}
