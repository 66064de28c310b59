"""Settings: parsed from the environment in one place; the README documents every one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reader.config import Settings, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_lists_every_setting_with_its_default() -> None:
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"^\|\s*`([A-Z_]+)`\s*\|\s*`?([^|`]*)`?\s*\|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    expected = {env: default for env, default, _ in settings_table()}
    assert set(rows) == set(expected)
    for env, default in expected.items():
        assert rows[env] == default, env


def test_from_env_reads_and_converts() -> None:
    s = Settings.from_env({
        "READER_CACHE_SIZE_MB": "12", "READER_TTS": "espeak", "READER_EXTRA_TTS": "",
        "READER_DATA_DIR": "/tmp/r",
    })
    assert s.cache_size_mb == 12 and s.tts == "espeak" and s.extra_tts == ()
    assert s.cache_dir == "/tmp/r/audio-cache"
    assert Settings.from_env({"READER_EXTRA_TTS": "espeak, piper"}).extra_tts == ("espeak", "piper")


@pytest.mark.parametrize("env", [{"READER_CACHE_SIZE_MB": "lots"}, {"READER_WORKERS": "-1"}])
def test_bad_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(env))):
        Settings.from_env(env)


def test_unknown_engine_names_the_choices(settings: Settings) -> None:
    import dataclasses

    from reader import create_app

    with pytest.raises(ValueError, match=r"Unknown engine 'nope'. Available: \['espeak', 'kokoro', 'piper'\]"):
        create_app(dataclasses.replace(settings, tts="nope"))
