"""Kokoro against Piper on the same sentences, in one run: real-time factor and round-trip WER
(the audio transcribed back by Whisper), with `reader eval voices` doing the measuring. French
too: Kokoro's ff_siwis against eSpeak NG's French, heard by the multilingual Whisper base.

    python bench/kokoro.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRENCH = [
    "Le gardien du phare a allumé la lampe avant la nuit.",
    "Le bateau de ravitaillement est arrivé au mois de mars.",
    "Il restait quarante bougies et six sacs de farine.",
    "La tempête a duré trois jours sans interruption.",
]


def main() -> None:
    from reader.evaluation import material, report, runs
    from reader.speech.espeak import EspeakSynthesizer
    from reader.speech.kokoro import KokoroSynthesizer
    from reader.speech.piper import PiperSynthesizer
    from reader.speech.whisper import WhisperTranscriber
    from reader.speech.whisper_models import multilingual_base

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        kokoro = KokoroSynthesizer(out)
        engines = {"piper": PiperSynthesizer(), "kokoro": kokoro, "espeak": EspeakSynthesizer()}
        english = WhisperTranscriber()
        runs.run_voices(engines, ["piper:en_US-joe-medium", "kokoro:af_heart"], material.sentences(None), english,
                        out / "en", show=False)
        base = multilingual_base(out / "models")
        assert base is not None
        runs.run_voices(engines, ["kokoro:ff_siwis", "espeak:fr"], FRENCH, WhisperTranscriber(str(base)),
                        out / "fr", show=False)
        rows = {v["voice"]: v for part in ("en", "fr") for v in report.summarise(out / part)["voices"]}
    for voice, v in rows.items():
        print(f"{voice:24} round-trip WER {100 * v['wer']:5.1f} %   RTF {v['rtf']:.3f}   "
              f"first audio {1000 * v['ttfb']:.0f} ms")
    ratio = rows["kokoro:af_heart"]["rtf"] / rows["piper:en_US-joe-medium"]["rtf"]
    print(f"Kokoro's RTF is {ratio:.1f}x Piper's (English, same sentences, same run)")


if __name__ == "__main__":
    main()
