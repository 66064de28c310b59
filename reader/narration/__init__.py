"""Narration: whole documents as audiobooks (M4B, MP3, Opus, WAV), captions (WebVTT, SRT) and
EPUB 3 read-along books, made in the background on a job queue (Huey)."""
