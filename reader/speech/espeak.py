"""eSpeak NG text-to-speech, called in-process through ctypes, with word timings from its events."""

from __future__ import annotations

import bisect
import ctypes
import functools
import logging
import os
import re
import unicodedata
from typing import Any

import numpy as np

from .base import ESPEAK_LOCK, Capabilities, Speech, Voice, WordTiming

LOGGER = logging.getLogger(__name__)

# Piper 1.8 does NOT share this library: piper/espeakbridge.so statically links its own
# eSpeak NG 1.52.0.1 (own globals, own data dir), so the two copies do not clobber each other's
# voice or callback. But espeakbridge calls its exported espeak_ng_* functions through the PLT,
# so if libespeak-ng.so were loaded RTLD_GLOBAL first, Piper's calls would bind into this copy
# and the process segfaults (reproduced). Hence RTLD_LOCAL, always. ESPEAK_LOCK is still held
# for every call: other packages (espeakng_loader users) may dlopen this very file, and then
# they do share its single global state.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report bad data as an error instead of calling exit()
_POS_CHARACTER = 1
_PARAM_RATE = 1
_EVENT_WORD = 1
# UTF-8 input; ENDPAUSE keeps the sentence-final pause (~0.6 s) so clips played back to back
# do not run sentences together. No SSML/PHONEMES flags: user text must not be markup.
_SYNTH_FLAGS = 0x1 | 0x1000
_GENDERS = {1: "male", 2: "female"}
DEFAULT_RATE = 175

# A word, over text mapped by _shape(): a number with its separators ("3,497", "12.5", which
# eSpeak reads as one unit) or letters/digits, joined by apostrophes ("it's", "o'clock").
_WORD_SHAPE = re.compile(r"(?:0+(?:[.,]0+)+|[a0]+)(?:['’][a0]+)*")
# Free-form names go to espeak_SetVoiceByName, which opens files by name: no path separators.
_SAFE_NAME = re.compile(r"^[\w() .'-]+(?:\+[\w-]+)?$")
_FRAME_SECONDS = 0.005
_LOUD = 256  # peak amplitude of a 5 ms frame that counts as sound; eSpeak's pauses are ~0
_MIN_PAUSE = 0.05  # trailing silence shorter than this stays part of the word
_EPS = 0.001


_int, _uint, _ptr, _str, _byte = ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ubyte


class _Event(ctypes.Structure):
    _fields_ = [("type", _int), ("unique_identifier", _uint), ("text_position", _int), ("length", _int),
                ("audio_position", _int), ("sample", _int), ("user_data", _ptr), ("id", _ptr)]  # fmt: skip


class _VoiceSpec(ctypes.Structure):
    # languages: (priority byte, NUL-terminated code)*, then a 0 byte; hence a raw pointer.
    _fields_ = [("name", _str), ("languages", _ptr), ("identifier", _str), ("gender", _byte),
                ("age", _byte), ("variant", _byte), ("xx1", _byte), ("score", _int), ("spare", _ptr)]  # fmt: skip


_Callback = ctypes.CFUNCTYPE(_int, ctypes.POINTER(ctypes.c_short), _int, ctypes.POINTER(_Event))


class _Library:
    """One dlopen'ed libespeak-ng with its process-wide state; use only under ESPEAK_LOCK."""

    def __init__(self, path: str) -> None:
        self.lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL)
        self.lib.espeak_Info.restype = _str
        self.lib.espeak_Initialize.argtypes = [_int, _int, _str, _int]
        self.lib.espeak_SetSynthCallback.argtypes = [_Callback]
        self.lib.espeak_SetVoiceByName.argtypes = [_str]
        self.lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
        self.lib.espeak_SetParameter.argtypes = [_int, _int, _int]
        self.lib.espeak_ListVoices.argtypes = [_ptr]
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
        self.lib.espeak_Synth.argtypes = [_str, ctypes.c_size_t, _uint, _int, _uint, _uint, _ptr, _ptr]
        self.version = (self.lib.espeak_Info(None) or b"").decode() or "1.52"
        self.sample_rate = 0
        self.data_path = ""
        self.ignored: set[str] = set()  # other data paths asked for, warned about once
        self.voices: list[tuple[Voice, str]] = []  # (voice, espeak identifier)
        self.chunks: list[bytes] = []
        self.events: list[tuple[int, int, int]] = []
        # The C side keeps only a raw pointer: this reference keeps the trampoline alive.
        self.callback = _Callback(self._on_audio)

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:  # wav is NULL on the final call
            self.chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != 0:
            event = events[i]
            if event.type == _EVENT_WORD:
                self.events.append((event.text_position - 1, event.length, event.audio_position))
            i += 1
        return 0

    def initialize(self, data_path: str) -> None:
        """Initialise once; a later different data path is ignored (espeak has one global)."""
        if self.sample_rate:
            if data_path != self.data_path and data_path not in self.ignored:
                self.ignored.add(data_path)
                LOGGER.warning("eSpeak already initialised with %s; ignoring %s", self.data_path, data_path)
            return
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT)
        if rate <= 0:  # a bad data path returns 0 rather than an error code
            raise RuntimeError(f"eSpeak NG failed to initialise with data at {data_path}")
        self.sample_rate, self.data_path = rate, data_path
        LOGGER.info("eSpeak NG %s initialised (%d Hz)", self.version, rate)


_LIBRARIES: dict[str, _Library] = {}


def _library(path: str) -> _Library:
    """The process-wide handle for `path` (dlopen returns the same state for the same file)."""
    with ESPEAK_LOCK:
        key = os.path.realpath(path)
        if key not in _LIBRARIES:
            _LIBRARIES[key] = _Library(path)
        return _LIBRARIES[key]


def _languages(pointer: int | None) -> list[str]:
    """Decode espeak's packed language list."""
    codes: list[str] = []
    while pointer and ctypes.string_at(pointer, 1) != b"\0":
        code = ctypes.string_at(pointer + 1)
        codes.append(code.decode("utf-8", "replace"))
        pointer += len(code) + 2
    return codes


class EspeakSynthesizer:
    """eSpeak NG: robotic but instant, ~140 languages, exact word events."""

    name = "espeak"

    def __init__(
        self,
        *,
        library_path: str | None = None,
        data_path: str | None = None,
        rate: int = DEFAULT_RATE,
        default_voice: str = "en-us",
    ) -> None:
        if not 80 <= rate <= 450:  # espeak's documented range; it clamps silently otherwise
            raise ValueError(f"eSpeak rate must be 80..450 words per minute, not {rate}")
        if library_path is None or data_path is None:
            import espeakng_loader

            library_path = library_path or espeakng_loader.get_library_path()
            data_path = data_path or espeakng_loader.get_data_path()
        self._data_path = data_path
        self._rate = rate
        self._default_voice = default_voice
        self._lib = _library(library_path)  # dlopen only; espeak_Initialize waits for first use
        # Rate changes the audio, so it belongs in the cache key when not the default.
        suffix = "" if rate == DEFAULT_RATE else f"@{rate}wpm"
        self.model = f"espeak-ng-{self._lib.version}{suffix}"
        # Exact word events of its own. Not deterministic: state carried between calls inside
        # the library changes the samples a little (re-initialising does not reset it).
        self.capabilities = Capabilities(word_timings="own", speed=True, unit_chars=1000, unit_words=160)

    def _ready(self) -> _Library:
        with ESPEAK_LOCK:
            self._lib.initialize(self._data_path)
            return self._lib

    def _voice_table(self) -> list[tuple[Voice, str]]:
        with ESPEAK_LOCK:
            lib = self._ready()
            if not lib.voices:
                listed = lib.lib.espeak_ListVoices(None)  # NULL spec: language voices, no variants
                i = 0
                while listed[i]:
                    spec = listed[i].contents
                    identifier = (spec.identifier or b"").decode("utf-8", "replace")
                    title = (spec.name or b"").decode("utf-8", "replace").strip()
                    codes = _languages(spec.languages)
                    name = identifier.rsplit("/", 1)[-1].lower()
                    i += 1
                    if not _speaks(lib, identifier):
                        # Listed, but its data is missing from this build (fo, kaa, xex in 1.52): it
                        # would read everything as silence, so it is not offered.
                        LOGGER.info("eSpeak voice %s gives no sound; not offered", name)
                        continue
                    lib.voices.append((
                        Voice(id=f"espeak:{name}", engine=self.name, name=name,
                              label=f"{title} — eSpeak", language=codes[0] if codes else name,
                              gender=_GENDERS.get(spec.gender)),
                        identifier,
                    ))  # fmt: skip
            return lib.voices

    def voices(self) -> list[Voice]:
        """Every language voice eSpeak NG ships (variants like "+f3" are accepted too)."""
        return [voice for voice, _ in self._voice_table()]

    def default_voice(self) -> str:
        """The voice used when none is asked for."""
        return self._default_voice

    def _select(self, lib: _Library, voice: str) -> None:
        """Make `voice` current: a listed name, an espeak name/"+variant", or a language code."""
        requested = voice.strip().removeprefix("espeak:")
        base, _, variant = requested.partition("+")
        if not requested or not _SAFE_NAME.match(requested):
            raise ValueError(f"Unknown voice {voice!r}")
        variants = [os.path.join(lib.data_path, *p, "voices", "!v", variant) for p in ((), ("espeak-ng-data",))]
        if variant and not any(os.path.isfile(path) for path in variants):
            raise ValueError(f"Unknown voice {voice!r}")  # espeak would silently ignore it
        identifiers = {v.name: ident for v, ident in self._voice_table()}
        target = identifiers.get(base.lower(), base) + (f"+{variant}" if variant else "")
        if lib.lib.espeak_SetVoiceByName(target.encode()) == 0:
            return
        # Codes such as "en-gb" or "fr-fr" are languages, not voice file names.
        language = ctypes.create_string_buffer(base.lower().encode())  # alive during the call
        spec = _VoiceSpec(languages=ctypes.addressof(language))
        if variant or lib.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
            raise ValueError(f"Unknown voice {voice!r}")

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None,
                   speed: float = 1.0) -> Speech:
        """Synthesise `text`; eSpeak has no style control, so `instructions` are ignored."""
        # Same length in code points, so event positions still index `text`.
        data = text.replace("\0", " ").encode("utf-8", "replace") + b"\0"
        with ESPEAK_LOCK:
            lib = self._ready()
            self._select(lib, voice)
            rate = int(min(max(self._rate * speed, 80), 450))  # eSpeak's range, in words per minute
            lib.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
            # Set every time: another user of the same library may have replaced it.
            lib.lib.espeak_SetSynthCallback(lib.callback)
            lib.chunks, lib.events = [], []
            try:
                status = lib.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _SYNTH_FLAGS, None, None)
                chunks, events, rate = lib.chunks, lib.events, lib.sample_rate
            finally:
                lib.chunks, lib.events = [], []
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        samples = np.frombuffer(bytearray(b"".join(chunks)), dtype=np.int16)
        LOGGER.debug("eSpeak: %d chars -> %.2f s, %d word events", len(text), len(samples) / rate, len(events))
        return Speech(samples=samples, sample_rate=rate, words=align_words(text, events, samples, rate))


def _speaks(lib: _Library, identifier: str) -> bool:
    """Whether a listed voice makes any sound (under ESPEAK_LOCK, initialised): digits, then letters."""
    if lib.lib.espeak_SetVoiceByName(identifier.encode()) != 0:
        return False
    lib.lib.espeak_SetSynthCallback(lib.callback)
    try:
        for sample in (b"1 2 3\0", b"a b c\0"):
            lib.chunks, lib.events = [], []
            if lib.lib.espeak_Synth(sample, len(sample), 0, _POS_CHARACTER, 0, _SYNTH_FLAGS, None, None) != 0:
                continue
            samples = np.frombuffer(bytearray(b"".join(lib.chunks)), dtype=np.int16)
            if samples.size and int(np.abs(samples.astype(np.int32)).max()) > _LOUD:
                return True
        return False
    finally:
        lib.chunks, lib.events = [], []


def word_spans(text: str) -> list[tuple[int, int]]:
    """Word tokens of `text` as (start, end) character spans."""
    shape = "".join(_shape(c) for c in text)  # same length as text, so spans carry over
    return [m.span() for m in _WORD_SHAPE.finditer(shape)]


@functools.lru_cache(maxsize=8192)
def _shape(char: str) -> str:
    """'0' digit, 'a' other letter/mark/number (re's \\w misses combining marks and matras)."""
    category = unicodedata.category(char)
    if category == "Nd":
        return "0"
    if category[0] in "LMN" or char == "_":
        return "a"
    return char if char in ".,'’" else " "


def align_words(
    text: str, events: list[tuple[int, int, int]], samples: np.ndarray, rate: int
) -> tuple[WordTiming, ...]:
    """One timing per word_spans() token of `text` from (0-based pos, length, ms) WORD events."""
    tokens = word_spans(text)
    duration = len(samples) / float(rate)
    if not tokens or duration <= 0:
        return ()
    firsts = [s for s, _ in tokens]
    starts: list[float | None] = [None] * len(tokens)
    owned: list[tuple[float, int]] = []  # (time, token or -1) of every event
    extras: list[tuple[int, int, int]] = []  # later events of a token: (event, token, span end)
    for pos, length, ms in sorted(events, key=lambda e: e[2]):
        t, i = ms / 1000.0, bisect.bisect_right(firsts, pos) - 1
        if i < 0 or pos >= tokens[i][1]:  # begins in a gap: belongs to the word it runs into
            i += 1
            if i >= len(tokens) or tokens[i][0] >= pos + max(length, 1):
                owned.append((t, -1))  # a symbol between words ("$", "@", an emoji)
                continue
        if starts[i] is None:
            starts[i] = t
        elif t > (starts[i] or 0.0):
            extras.append((len(owned), i, pos + length))
        owned.append((t, i))
    # eSpeak may report a word one character into the previous one ("it is": "is" arrives as
    # "t "); such an event overruns that word, whose successor then has no event of its own.
    # Numbers legitimately yield several overrunning events, so digits are left alone.
    for k, i, end in extras:
        nxt = i + 1
        if (nxt < len(tokens) and starts[nxt] is None and end > tokens[i][1]
                and not any(c.isdigit() for c in text[tokens[i][0] : tokens[i][1]])):
            starts[nxt] = owned[k][0]
            owned[k] = (owned[k][0], nxt)
    loud = _loud_frames(samples, rate)
    speech_end = min(float(loud[-1] + 1) * _FRAME_SECONDS if loud.size else duration, duration)
    if starts[0] is None:
        starts[0] = 0.0
    t0s = _interpolate(tokens, starts, speech_end)
    times = [t for t, _ in owned]
    timings: list[list[float]] = []
    for i, t0 in enumerate(t0s):
        t0 = max(t0, timings[-1][0] + _EPS) if timings else max(t0, 0.0)
        # A word ends where the next thing eSpeak says begins (a word or a symbol) ...
        t1 = t0s[i + 1] if i + 1 < len(t0s) else max(speech_end, t0)
        k = bisect.bisect_right(times, t0)
        while k < len(owned) and 0 <= owned[k][1] <= i:  # its own (or a stray earlier) event
            k += 1
        if k < len(owned):
            t1 = min(t1, owned[k][0])
        # ... or where its sound stops, so a following pause is not highlighted.
        t1 = _trim_silence(loud, t0, t1)
        timings.append([t0, max(t1, t0 + _EPS)])
    cap = duration  # overshoot can only come from _EPS nudges: pull back from the end
    for pair in reversed(timings):
        pair[1] = min(pair[1], cap)
        pair[0] = max(min(pair[0], pair[1] - _EPS), 0.0)
        cap = pair[0]
    return tuple(WordTiming(s, e, t0, t1) for (s, e), (t0, t1) in zip(tokens, timings))


def _interpolate(tokens: list[tuple[int, int]], starts: list[float | None], end: float) -> list[float]:
    """Fill missing start times in proportion to character offsets between known neighbours."""
    anchors: list[tuple[int, float]] = []
    for (char, _), t in zip(tokens, starts):  # an out-of-order event is less reliable than a guess
        if t is not None and (not anchors or t >= anchors[-1][1]):
            anchors.append((char, t))
    anchors.append((tokens[-1][1], max(end, anchors[-1][1])))
    out: list[float] = []
    k = 0
    for char, _ in tokens:
        while k + 2 < len(anchors) and anchors[k + 1][0] <= char:
            k += 1
        (c0, a), (c1, b) = anchors[k], anchors[k + 1]
        out.append(a if char == c0 else a + (b - a) * (char - c0) / max(c1 - c0, 1))
    return out


def _loud_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Indices of 5 ms frames with audible sound."""
    size = max(int(rate * _FRAME_SECONDS), 1)
    count = len(samples) // size
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    frames = np.abs(samples[: count * size].astype(np.int32)).reshape(count, size)
    return np.flatnonzero(frames.max(axis=1) > _LOUD)


def _trim_silence(loud: np.ndarray, t0: float, t1: float) -> float:
    """The end of the last sound in [t0, t1] if a real pause follows it, else t1."""
    first, stop = int(t0 / _FRAME_SECONDS), int(np.ceil(t1 / _FRAME_SECONDS))
    k = int(np.searchsorted(loud, stop)) - 1
    if k < 0 or loud[k] < first:
        return t1
    sound_end = float(loud[k] + 1) * _FRAME_SECONDS
    return sound_end if t1 - sound_end >= _MIN_PAUSE else t1
