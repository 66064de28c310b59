"""Makes the recordings of spoken commands in this folder: each phrase said by each voice,
Opus in Ogg as a browser would send it. Run from the project's root:

    .venv/bin/python tests/data/commands/make.py [VOICE ...]

(with voices named, only theirs are made).
The voices are offline engines Reader ships (Piper's Joe, CC0 data; eSpeak NG; Kokoro,
Apache-2.0), so the recordings are the same wherever they are made again, and free to keep.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from reader import audio  # noqa: E402
from reader.config import Settings  # noqa: E402
from reader.speech.registry import build_synthesizer  # noqa: E402

VOICES = ("piper:en_US-joe-medium", "espeak:en-us", "kokoro:af_heart", "kokoro:bm_george", "kokoro:bf_emma",
          "kokoro:af_bella", "kokoro:am_michael", "kokoro:am_adam", "kokoro:bf_isabella", "kokoro:bm_lewis")
PHRASES = ("undo", "comma", "question mark", "full stop", "period", "new line", "new paragraph", "delete that",
           "exclamation mark", "colon", "double five", "oh two oh seven double four", "triple nine")


def main() -> None:
    settings = Settings()
    engines = {}
    for voice in [v for v in VOICES if not sys.argv[1:] or v in sys.argv[1:]]:
        engine, name = voice.split(":")
        if engine not in engines:
            engines[engine] = build_synthesizer(engine, settings)
        folder = HERE / voice.replace(":", "-")
        folder.mkdir(exist_ok=True)
        for phrase in PHRASES:
            speech = engines[engine].synthesize(phrase, name)
            (folder / f"{phrase.replace(' ', '-')}.ogg").write_bytes(
                audio.encode(speech.samples, speech.sample_rate, "opus"))
        print(voice, file=sys.stderr)


if __name__ == "__main__":
    main()
