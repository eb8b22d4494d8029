"""Keyframe sampling (keyframes at most 2 s apart) is the default; strict sampling stays a setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelseek.core.indexer import IndexerConfig
from reelseek.core.settings import DEFAULT_MAX_SAMPLE_EVERY, SETTINGS_VERSION, Settings


def test_defaults_take_keyframes_up_to_two_seconds_apart() -> None:
    assert Settings().max_sample_every == DEFAULT_MAX_SAMPLE_EVERY == 2.0
    assert IndexerConfig().max_every == 2.0
    assert Settings().sample_every == 1.0


def test_v1_settings_move_to_the_new_default_but_strict_is_kept_once_chosen(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text(json.dumps({"device": "cpu", "max_sample_every": None, "version": 1}))
    s = Settings.load(f)
    assert s.max_sample_every == 2.0 and s.device == "cpu" and s.version == SETTINGS_VERSION
    s.max_sample_every = None  # strict 1 frame/s, chosen now
    s.save(f)
    assert Settings.load(f).max_sample_every is None
    f.write_text(json.dumps({"max_sample_every": 3.0, "version": 1}))
    assert Settings.load(f).max_sample_every == 3.0  # an explicit value is kept


def test_max_sample_every_may_sit_below_sample_every_meaning_strict() -> None:
    Settings(sample_every=3.0, max_sample_every=2.0).validate()  # the dialog can raise sample_every alone
    with pytest.raises(ValueError, match="max_sample_every"):
        Settings(max_sample_every=0).validate()
