"""Keyframes first, then strict frames only across picture changes (core/sampling_edges.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelseek.core import media
from reelseek.core.sampling_edges import edge_targets, sample_at
from tests.synth.videos import SceneSpec

TEST_MODEL = "reelseek-test-tiny"


def _unit(rows: list[list[float]]) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_edge_targets_fill_only_gaps_that_cross_a_change():
    same, other = [1.0, 0.0], [0.0, 1.0]
    times = [0.0, 2.0, 4.0, 6.0, 7.0]
    vecs = _unit([same, same, other, other, same])
    # 2->4 crosses a change: 3 s is missing; 6->7 crosses one but is already 1 s apart.
    assert edge_targets(times, vecs, 1.0, 0.9) == [3.0]
    # Nothing changes: nothing to add, however sparse.
    assert edge_targets(times, _unit([same] * 5), 1.0, 0.9) == []
    # A 4 s gap across a change gets every strict target strictly inside it.
    assert edge_targets([0.0, 4.0], _unit([same, other]), 1.0, 0.9) == [1.0, 2.0, 3.0]
    assert edge_targets([0.0], _unit([same]), 1.0, 0.9) == []


def _scenes() -> list[SceneSpec]:
    return [
        SceneSpec("red", "circle", "sky", "still", 0.0, 3.0),
        SceneSpec("green", "square", "grass", "still", 3.0, 7.0),
    ]


@pytest.fixture(scope="module")
def gop2_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keyframe every 2 s exactly: x264's scene-cut keyframe is off, as on camera originals
    (with it, x264 puts a keyframe on the cut at 3 s and there is no gap to refine)."""
    import av

    from tests.synth.videos import render_frame, scene_for_spec

    path = tmp_path_factory.mktemp("edges") / "gop2.mp4"
    scenes = _scenes()
    drawn = [scene_for_spec(s, 3) for s in scenes]
    rng = np.random.default_rng(3)
    options = {"preset": "veryfast", "crf": "23", "g": "20", "keyint_min": "20", "sc_threshold": "0"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options=options)
        stream.width, stream.height, stream.pix_fmt = 256, 144, "yuv420p"
        for i in range(70):
            t = i / 10
            k = 0 if t < scenes[0].end else 1
            progress = (t - scenes[k].start) / (scenes[k].end - scenes[k].start)
            frame = av.VideoFrame.from_ndarray(render_frame(drawn[k], progress, 256, 144, rng), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_sample_at_gives_the_frames_strict_sampling_gives(gop2_clip: Path):
    info = media.probe(gop2_clip)
    strict = {round(f.t, 3): f for f in media.sample_frames(gop2_clip, every=1.0, size=32, info=info)}
    got = sample_at(gop2_clip, info, [1.0, 3.0, 5.0], size=32, thumb_width=48)
    assert [round(f.t, 3) for f in got] == [1.0, 3.0, 5.0]
    for f in got:
        np.testing.assert_array_equal(f.pixels, strict[round(f.t, 3)].pixels)
        assert f.thumb is not None and f.thumb.shape[1] == 48


def test_sample_at_survives_targets_past_the_end_and_out_of_order(gop2_clip: Path):
    info = media.probe(gop2_clip)
    got = sample_at(gop2_clip, info, [5.0, 1.0, 99.0], size=32, thumb_width=None)
    times = [f.t for f in got]
    assert times[:2] == [1.0, 5.0] and times == sorted(times)
    assert all(t <= info.duration for t in times)


def _stored_times(home: Path, folder: Path, **config: object) -> list[float]:
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.library import Library

    with Library(home, model_id=TEST_MODEL, indexer_config=IndexerConfig(**config)) as lib:  # type: ignore[arg-type]
        report = lib.index([folder], words=False)
        assert report.errors == [] and report.indexed == 1
        (f,) = lib.store.files()
        return sorted(float(t) for s, _v, _t in lib.store.segments_of_file(f.id, TEST_MODEL) for t in s.times)


def test_indexer_refines_the_scene_change_and_nothing_else(gop2_clip: Path, tmp_path: Path):
    # What the indexer would store without refinement (one frame per keyframe) and with strict
    # 1 frame/s sampling: the sampler's own times, no indexing needed.
    keyframes = [f.t for f in media.sample_frames(gop2_clip, every=1.0, size=32, max_every=2.0)]
    strict = [f.t for f in media.sample_frames(gop2_clip, every=1.0, size=32)]
    refined = _stored_times(tmp_path / "r", gop2_clip.parent, max_every=2.0, refine_edges=True)
    assert keyframes[:4] == [0.0, 2.0, 4.0, 6.0]
    # The change at 3 s lies between the keyframes at 2 and 4: 3 s is added, and only what
    # the model saw as a change (the frames inside one scene stay sparse).
    assert 3.0 in refined and set(keyframes) < set(refined)
    assert set(refined) <= set(strict)
    assert len(refined) < len(strict)


def test_pin_adds_the_frame_before_a_change_gaps_later_sample_only_where_no_grid_frame_falls():
    same, other = [1.0, 0.0], [0.0, 1.0]
    fd = 0.1
    # 2.0 -> 2.6: a keyframe on the cut at 2.6 (no 1 frame/s time fits between): 2.5 pins it.
    times = [0.0, 2.0, 2.6, 4.6]
    vecs = _unit([same, same, other, other])
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=fd) == []
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=fd, pin="bare") == [2.5]
    # A 2 s gap across a change already gets its strict frame: "bare" adds nothing more there,
    # "always" also the frame before the later sample.
    times, vecs = [0.0, 2.0, 4.0], _unit([same, same, other])
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=fd, pin="bare") == [3.0]
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=fd, pin="always") == pytest.approx([3.0, 3.9])
    # Neighbours one frame apart leave nothing to pin; a gap without a change is never touched.
    assert edge_targets([2.0, 2.1], _unit([same, other]), 1.0, 0.9, frame_dur=fd, pin="always") == []
    assert edge_targets([0.0, 2.6], _unit([same, same]), 1.0, 0.9, frame_dur=fd, pin="always") == []


def test_dense_takes_every_strict_time_inside_a_change_gap_however_near_its_ends():
    same, other = [1.0, 0.0], [0.0, 1.0]
    times, vecs = [8.7, 10.3], _unit([same, other])
    # Strict's 9 and 10 are within every/2 of the samples: skipped unless dense.
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=0.1) == []
    assert edge_targets(times, vecs, 1.0, 0.9, frame_dur=0.1, dense=True) == [9.0, 10.0]


@pytest.fixture(scope="module")
def cut_key_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keyframes every 2 s plus one forced on the cut at 2.6 s, as an encoder with scene
    detection places them (x264's own detection is off, so the layout is known exactly)."""
    import av

    from tests.synth.videos import render_frame, scene_for_spec

    path = tmp_path_factory.mktemp("cutkey") / "cutkey.mp4"
    scenes = [
        SceneSpec("red", "circle", "sky", "still", 0.0, 2.6),
        SceneSpec("green", "square", "grass", "still", 2.6, 7.0),
    ]
    drawn = [scene_for_spec(s, 3) for s in scenes]
    rng = np.random.default_rng(3)
    options = {"preset": "veryfast", "crf": "23", "g": "20", "keyint_min": "20", "sc_threshold": "0", "forced-idr": "1"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options=options)
        stream.width, stream.height, stream.pix_fmt = 256, 144, "yuv420p"
        for i in range(70):
            k = 0 if i < 26 else 1
            progress = (i / 10 - scenes[k].start) / (scenes[k].end - scenes[k].start)
            frame = av.VideoFrame.from_ndarray(render_frame(drawn[k], progress, 256, 144, rng), format="rgb24")
            frame.pts = i
            if i == 26:
                frame.pict_type = av.video.frame.PictureType.I
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_keyframe_on_the_cut_gets_the_frame_before_it_and_nothing_else(cut_key_clip: Path, tmp_path: Path):
    keyframes = [f.t for f in media.sample_frames(cut_key_clip, every=1.0, size=32, max_every=2.0)]
    assert keyframes[:3] == [0.0, 2.0, 2.6]  # the layout this test is about
    edges = _stored_times(tmp_path / "e", cut_key_clip.parent, max_every=2.0, refine_edges=True, edge_pin="off")
    pinned = _stored_times(tmp_path / "p", cut_key_clip.parent, max_every=2.0, refine_edges=True, edge_pin="bare")
    # No 1 frame/s time lies between 2.0 and the cut keyframe at 2.6, so plain edge refinement
    # adds nothing and the cell edge falls at 2.3; pinning decodes 2.5 (the old shot's last
    # frame), so the edge falls at 2.55, one frame from the cut, and adds no other frame.
    assert edges == pytest.approx(keyframes, abs=1e-4)  # stored as float32
    assert pinned == pytest.approx(sorted([*keyframes, 2.5]), abs=1e-4)
    strict = [f.t for f in media.sample_frames(cut_key_clip, every=1.0, size=32)]
    assert len(pinned) < len(strict)


def _library_times(home: Path, folder: Path, *, strict: bool) -> list[float]:
    """Frame times the library stores with its own settings (no IndexerConfig given)."""
    from reelseek.core.library import Library

    with Library(home, model_id=TEST_MODEL) as lib:
        if strict:
            lib.settings.max_sample_every = None  # what the app's checkbox and `index --strict` set
        assert lib.index([folder], words=False).errors == []
        (f,) = lib.store.files()
        return sorted(float(t) for s, _v, _t in lib.store.segments_of_file(f.id, TEST_MODEL) for t in s.times)


def test_the_library_samples_keyframes_plus_edges_by_default_and_strictly_when_set(cut_key_clip: Path, tmp_path: Path):
    default = _library_times(tmp_path / "d", cut_key_clip.parent, strict=False)
    strict = _library_times(tmp_path / "s", cut_key_clip.parent, strict=True)
    assert strict == pytest.approx([f.t for f in media.sample_frames(cut_key_clip, every=1.0, size=32)], abs=1e-4)
    keyframes = [f.t for f in media.sample_frames(cut_key_clip, every=1.0, size=32, max_every=2.0)]
    assert default == pytest.approx(sorted([*keyframes, 2.5]), abs=1e-4)
    assert len(default) < len(strict)


def test_a_cluster_worker_refines_edges_like_the_local_indexer(cut_key_clip: Path, tmp_path: Path):
    from reelseek.core.cluster import model_files
    from reelseek.core.cluster_worker import EmbedWorker
    from reelseek.core.models import get_spec

    spec = get_spec(TEST_MODEL)
    files = model_files(spec, tmp_path / "models")
    local = _stored_times(tmp_path / "l", cut_key_clip.parent, max_every=2.0, refine_edges=True, edge_pin="bare")
    worker = EmbedWorker(files, spec, "cpu", 1.0, 2.0, 16, 64, [], threads=1, edges=(0.9, "bare"))
    plain = EmbedWorker(files, spec, "cpu", 1.0, 2.0, 16, 64, [], threads=1)
    try:
        got = worker.embed(1, str(cut_key_clip))
        assert got.error is None and got.times is not None
        assert sorted(float(t) for t in got.times) == pytest.approx(local, abs=1e-4)
        assert len(got.thumbs) == len(got.times) == len(got.vectors)
        # Without edges the worker keeps one frame per keyframe: 2.5 is what the refinement adds.
        bare = plain.embed(2, str(cut_key_clip))
        assert bare.times is not None and 2.5 not in [round(float(t), 3) for t in bare.times]
    finally:
        worker.close()
        plain.close()


def test_a_file_sampled_strictly_gets_no_refinement(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path):
    """Keyframes 7 s apart (too sparse for keyframe sampling) and a cut at 2.6 s: the default
    samples it strictly, and nothing is added (no pinned frame decoded into the long GOP)."""
    import av

    from tests.synth.videos import render_frame, scene_for_spec

    path = tmp_path_factory.mktemp("longgop") / "longgop.mp4"
    scenes = [
        SceneSpec("red", "circle", "sky", "still", 0.0, 2.6),
        SceneSpec("green", "square", "grass", "still", 2.6, 7.0),
    ]
    drawn = [scene_for_spec(s, 3) for s in scenes]
    rng = np.random.default_rng(3)
    options = {"preset": "veryfast", "crf": "23", "g": "70", "keyint_min": "70", "sc_threshold": "0"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options=options)
        stream.width, stream.height, stream.pix_fmt = 256, 144, "yuv420p"
        for i in range(70):
            k = 0 if i < 26 else 1
            progress = (i / 10 - scenes[k].start) / (scenes[k].end - scenes[k].start)
            frame = av.VideoFrame.from_ndarray(render_frame(drawn[k], progress, 256, 144, rng), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    strict = [f.t for f in media.sample_frames(path, every=1.0, size=32)]
    assert _library_times(tmp_path / "d", path.parent, strict=False) == pytest.approx(strict, abs=1e-4)
