"""The cluster worker without a cluster: path mapping, shipped weights, one file embedded like the local pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelseek.core import media
from reelseek.core.cluster import model_files
from reelseek.core.cluster_worker import FAULT_ENV, EmbedWorker, PathMap, _fault_for, map_path
from reelseek.core.models import TEST_MODEL_ID, get_spec, load_embedder
from tests.synth.videos import make_library


def test_path_map_parse_and_apply() -> None:
    every = PathMap.parse("/mnt/nas=/Volumes/NAS")
    one = PathMap.parse("10.0.0.5:/mnt/nas/proj=/data/proj")
    assert (every.src, every.dst, every.node) == ("/mnt/nas", "/Volumes/NAS", None)
    assert (one.src, one.dst, one.node) == ("/mnt/nas/proj", "/data/proj", "10.0.0.5")
    rules = [every, one]
    assert map_path("/mnt/nas/proj/a.mov", rules, {"10.0.0.5"}) == "/data/proj/a.mov"  # longest rule, this node
    assert map_path("/mnt/nas/proj/a.mov", rules, {"10.0.0.9"}) == "/Volumes/NAS/proj/a.mov"
    assert map_path("/mnt/nasty/a.mov", rules, {"10.0.0.9"}) == "/mnt/nasty/a.mov"  # prefix must end at a /
    assert map_path("/other/a.mov", rules, set()) == "/other/a.mov"
    for bad in ("nonsense", "=/x", "/x=", "host:/x"):
        with pytest.raises(ValueError, match="path mapping"):
            PathMap.parse(bad)


def test_fault_hook_fires_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "m"
    monkeypatch.setenv(FAULT_ENV, f"clip_001:{marker}")
    assert not _fault_for("/x/clip_000.mp4")
    assert _fault_for("/x/clip_001.mp4") and marker.exists()
    assert not _fault_for("/x/clip_001.mp4")  # the retry goes through


def test_worker_embeds_like_the_local_pipeline(tmp_path: Path) -> None:
    root = tmp_path / "footage"
    videos = make_library(root, n_videos=1, codecs=("h264",), seed=2, scene_seconds=(2.0, 2.5))
    path = str(videos[0].path if hasattr(videos[0], "path") else next(root.iterdir()))
    spec = get_spec(TEST_MODEL_ID)
    files = model_files(spec, tmp_path / "models")
    assert {"open_clip_config.json", "open_clip_model.safetensors"} <= files.keys()
    worker = EmbedWorker(files, spec, "cpu", 1.0, None, 16, 192, [PathMap("/elsewhere", str(root))], threads=1)
    try:
        # The worker loads the copy the driver shipped, not the package's own folder.
        assert (worker._dir / spec.id / "open_clip_model.safetensors").is_file()
        moved = "/elsewhere/" + Path(path).name  # the driver's path, mapped onto this node
        got = worker.embed(7, moved)
        assert got.error is None and got.file_id == 7
        local = load_embedder(TEST_MODEL_ID, device="cpu", threads=1)
        frames = list(media.sample_frames(Path(path), every=1.0, size=local.image_size))
        want = local.encode_frames(np.stack([f.pixels for f in frames]))
        assert np.allclose(got.times, [f.t for f in frames])
        np.testing.assert_allclose(got.vectors, want, atol=2e-3)
        assert len(got.thumbs) == len(frames) and all(t for t in got.thumbs)
        missing = worker.embed(8, "/elsewhere/not-there.mp4")
        assert missing.error and "not-there.mp4" in missing.error
    finally:
        worker.close()
    assert not worker._dir.exists()


def test_writer_ceiling_benchmark_runs() -> None:
    from tests.bench.cluster import table, writer_ceiling

    w = writer_ceiling(n_files=4, frames=12, dim=16)
    assert w["files_per_s"] > 0 and w["segments_per_s"] > 0
    one = {"rate": 0.5, "steady_rate": 0.6, "run_s": 4.0, "startup_s": 9.0, "workers_start_s": 0.7}
    fake = {"local": {"rate": 1.0, "run_s": 2.0}, "ray_1_worker": one}
    fake |= {"ray_2_workers": {**one, "rate": 0.9, "steady_rate": 1.2}, "writer": w}
    fake |= {"scaling": {"per_worker_video_s_per_s": 0.45, "workers_until_writer_bound": 100.0}}
    text = table(fake)
    assert "Ray, 2 workers" in text and "writer binds at ~100 workers" in text
    assert "| Ray, 2 workers | 0.90 | 1.20 |" in text
