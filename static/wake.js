// Bluetooth headsets and some sound cards drop the first ~100 ms after silence. A silent
// Web Audio source keeps the output open while reading (and for a while after a pause),
// and a short lead-in gives a sleeping device time to wake.

const LEAD_IN_MS = 150;
const SLEEP_AFTER_MS = 20_000;

export class AudioWake {
  constructor() {
    this.ctx = null;
    this.timer = 0;
  }

  // Resolves once the output is open; waits the lead-in when it was asleep.
  async wake() {
    clearTimeout(this.timer);
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    let woke = false;
    try {
      if (!this.ctx) {
        this.ctx = new Ctx();
        const silence = this.ctx.createConstantSource();
        silence.offset.value = 0;
        silence.connect(this.ctx.destination);
        silence.start();
        woke = true;
      } else if (this.ctx.state !== "running") {
        await this.ctx.resume();
        woke = true;
      }
    } catch {
      return; // no Web Audio: play without it
    }
    if (woke) await new Promise((resolve) => setTimeout(resolve, LEAD_IN_MS));
  }

  sleepSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.ctx?.suspend().catch(() => {}); }, SLEEP_AFTER_MS);
  }
}
