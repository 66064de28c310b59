"""Pasted text into blocks; the spoken text and its map back to the sentence."""

from __future__ import annotations

from reader.documents.text import text_blocks
from reader.text.speech_text import spoken_text


def test_blocks_from_markdownish_text() -> None:
    text = "## Title here\r\nA paragraph that was\nwrapped by the source.\n\n* one\n* two\n  continued\n\n\n1. first\n2) second\n\nLast\u00a0line\u200b."
    blocks = text_blocks(text)
    assert [(b.kind, b.level, b.text) for b in blocks] == [
        ("heading", 2, "Title here"),
        ("paragraph", None, "A paragraph that was wrapped by the source."),
        ("list_item", None, "one"),
        ("list_item", None, "two continued"),
        ("list_item", None, "first"),
        ("list_item", None, "second"),
        ("paragraph", None, "Last line."),
    ]
    assert [b.index for b in blocks] == list(range(len(blocks)))


def test_whitespace_only_gives_no_blocks() -> None:
    assert text_blocks(" \n\t\n\u200b ") == []


def test_spoken_text_maps_back_to_the_sentence() -> None:
    sentence = "  Hello   big\n\tworld.  "
    spoken = spoken_text(sentence)
    assert spoken.text == "Hello big world."
    start = spoken.text.index("big")
    s, e = spoken.to_source(start, start + 3)
    assert sentence[s:e] == "big"
    s, e = spoken.to_source(spoken.text.index("world"), len(spoken.text))
    assert sentence[s:e] == "world."
