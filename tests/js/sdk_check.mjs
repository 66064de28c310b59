// Reader's /v1 through the official openai JS SDK: speech, speech as Server-Sent Events, and a
// streamed transcription. Prints one JSON object with what it saw; tests/test_openai_js.py checks it.
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const [baseURL, apiKey, wavPath] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
const out = {};

const speech = await client.audio.speech.create({
  model: "espeak", voice: "en-us", input: "Hello from the JavaScript SDK.", response_format: "wav",
});
const audio = Buffer.from(await speech.arrayBuffer());
out.speech = { bytes: audio.length, riff: audio.subarray(0, 4).toString("latin1") };

const sse = await client.audio.speech.create({
  model: "espeak", voice: "en-us", input: "Events carry the audio.", response_format: "mp3", stream_format: "sse",
});
const text = await sse.text();
const events = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)));
out.sse = {
  types: [...new Set(events.map((e) => e.type))],
  bytes: events.filter((e) => e.type === "speech.audio.delta").reduce((n, e) => n + Buffer.from(e.audio, "base64").length, 0),
  last: events.at(-1)?.type,
};

const file = await toFile(fs.readFileSync(wavPath), "clip.wav", { type: "audio/wav" });
const stream = await client.audio.transcriptions.create({ model: "whisper", file, stream: true });
const kinds = [];
let done = "";
for await (const event of stream) {
  kinds.push(event.type);
  if (event.type === "transcript.text.done") done = event.text;
}
out.transcription = { kinds: [...new Set(kinds)], last: kinds.at(-1), text: done };
console.log(JSON.stringify(out));
