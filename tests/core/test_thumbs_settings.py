"""Thumbnail cache limits and fallbacks; settings persistence and validation."""

from __future__ import annotations

import numpy as np
import pytest

from reelseek.core import thumbs
from reelseek.core.settings import Settings
from reelseek.core.store import NewSegment, Store
from reelseek.core.thumbs import ThumbnailCache
from reelseek.core.types import Moment
from tests.synth.videos import SceneSpec, write_video


def _indexed_file(tmp_path, path):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file(path, None, 1, 1, "fp")
    v = np.ones(4, dtype=np.float32) / 2
    s.commit_file(
        fid, "m", [NewSegment(0, 3, 1.0, v, np.array([1.0]), v[None], b"stored-jpeg")], duration=3, width=1, height=1
    )
    return s, fid


def test_thumbnail_from_video_is_cached(tmp_path):
    video = tmp_path / "a.mp4"
    write_video(
        video,
        [SceneSpec("red", "circle", "grass", "still", 0.0, 3.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=1,
    )
    s, fid = _indexed_file(tmp_path, video)
    cache = ThumbnailCache(tmp_path / "thumbs", 16)
    m = Moment(str(video), fid, 0, 3, 0.5, 1.0)
    data = cache.get(s, m, width=160, model_id="m")
    assert data[:2] == b"\xff\xd8"  # a JPEG
    video.unlink()  # the drive goes away: the cached picture is still there
    assert cache.get(s, m, width=160, model_id="m") == data


def test_offline_file_falls_back_to_the_stored_segment_thumbnail(tmp_path):
    s, fid = _indexed_file(tmp_path, tmp_path / "gone.mp4")
    cache = ThumbnailCache(tmp_path / "thumbs", 16)
    assert cache.get(s, Moment(str(tmp_path / "gone.mp4"), fid, 0, 3, 0.5, 1.0), model_id="m") == b"stored-jpeg"


def test_cache_is_pruned_to_its_limit(tmp_path, monkeypatch):
    folder = tmp_path / "thumbs"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.jpg").write_bytes(b"x" * 1024 * 1024)
    monkeypatch.setattr(thumbs, "_writes", {})
    cache = ThumbnailCache(folder, 16)
    cache._maybe_prune()
    total = sum(p.stat().st_size for p in folder.rglob("*.jpg"))
    assert total <= 16 * 1024 * 1024


def test_settings_round_trip_and_defaults(tmp_path):
    f = tmp_path / "settings.json"
    assert Settings.load(f) == Settings()  # missing file: defaults
    s = Settings(model_id="vit-b-16", device="cpu", sample_every=2.0, thumb_cache_mb=64)
    s.save(f)
    assert Settings.load(f) == s
    f.write_text("{not json")
    assert Settings.load(f) == Settings()  # unreadable: defaults, never a crash
    f.write_text('{"device": "cpu", "unknown_future_key": 1, "version": 1}')
    assert Settings.load(f).device == "cpu"
    f.write_text('{"device": "quantum"}')
    assert Settings.load(f) == Settings()


def test_settings_validation():
    with pytest.raises(ValueError, match="device"):
        Settings(device="tpu").validate()
    with pytest.raises(ValueError, match="sample_every"):
        Settings(sample_every=0).validate()


def test_sampling_defaults_to_keyframes_plus_edges_and_strict_stays_a_choice(tmp_path):
    f = tmp_path / "settings.json"
    assert Settings().max_sample_every == 2.0 and Settings().indexer_max_every() == 2.0
    # A v1 file saved null for "the default" (strict was the only sampling then): the new default.
    f.write_text('{"max_sample_every": null, "sample_every": 1.0, "device": "cpu", "version": 1}')
    loaded = Settings.load(f)
    assert (loaded.max_sample_every, loaded.device, loaded.version) == (2.0, "cpu", 2)
    # Strict chosen and saved now stays strict.
    Settings(max_sample_every=None).save(f)
    assert Settings.load(f).max_sample_every is None and Settings.load(f).indexer_max_every() is None
    # A long interval keeps its own meaning: the keyframe limit is never below it.
    assert Settings(sample_every=5.0).indexer_max_every() == 5.0
    Settings(sample_every=5.0).save(f)
    assert Settings.load(f).sample_every == 5.0
    with pytest.raises(ValueError, match="max_sample_every"):
        Settings(max_sample_every=0).validate()
