"""The codec benchmark's own machinery: its clips are what they claim, its overlap arithmetic is right.

Correctness only (tiny clips, no timing assertions): the #11 throughput table is only as good as
the footage it decodes and the bounds it sets the pipeline against.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from tests.bench.codec_footage import (
    EXPECTED,
    FPS,
    RECIPES,
    clip_path,
    clip_seconds,
    describe,
    loop_clip,
    looped_seconds,
    make_clip,
    write_clip,
)
from tests.bench.footage import make_textured
from tests.bench.overlap import available_cores, overlap


def _frames(n: int = 12) -> list:
    """Small moving pictures (a bar sliding over a gradient), as decoded av frames would be."""
    import av

    out = []
    for i in range(n):
        img = np.zeros((144, 256, 3), np.uint8)
        img[..., 0] = np.linspace(0, 255, 256, dtype=np.uint8)[None, :]
        img[:, (i * 17) % 220 : (i * 17) % 220 + 36, 1] = 255
        out.append(av.VideoFrame.from_ndarray(img, format="rgb24"))
    return out


def _decoded_frames(path: Path) -> tuple[int, set[int]]:
    import av

    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
        return len(frames), {f.format.components[0].bits for f in frames}


@pytest.mark.parametrize("kind", sorted(RECIPES))
def test_each_recipe_writes_a_decodable_clip_of_its_codec_profile_and_bit_depth(tmp_path, kind):
    recipe = RECIPES[kind]
    path = write_clip(tmp_path / kind / "clip.mov", recipe, 2, _frames(), size=(256, 144))
    info = describe(path)
    codec, profile, pix_fmt = EXPECTED[kind]
    assert (info["codec"], info["profile"], info["pix_fmt"]) == (codec, profile, pix_fmt)
    assert (info["width"], info["height"]) == (256, 144)
    count, bits = _decoded_frames(path)
    assert count == 2 * FPS, "every written frame decodes"
    assert bits == {10 if "10" in pix_fmt else 8}, bits
    if kind.startswith("hevc10"):
        assert info["keyframes"] == 2 and math.isclose(info["gop_s"], 1.0), info  # a keyframe every second
    else:
        assert info["keyframes"] == 2 * FPS, "ProRes and DNxHR are intra-only"
    assert not list(path.parent.glob("part-*")), "no half-written file left behind"


@pytest.mark.parametrize("gop", [1.0, 2.0])
def test_h264_clips_have_the_requested_gop(tmp_path, gop):
    path = make_textured(tmp_path, "360p", gop=gop, seconds=4, frames=_frames())
    info = describe(path)
    assert (info["codec"], info["profile"], info["pix_fmt"]) == EXPECTED["h264_1080p_gop1"]
    assert math.isclose(info["gop_s"], gop) and info["keyframes"] == round(4 / gop)


def test_a_cached_clip_is_reused_without_reading_the_sources(tmp_path, monkeypatch):
    import tests.bench.codec_footage as cf

    monkeypatch.setattr(cf, "_source_frames", lambda: pytest.fail("sources read for a cached clip"))
    for kind in EXPECTED:
        target = clip_path(tmp_path, kind, 10)
        target.parent.mkdir(parents=True)
        target.write_bytes(b"cached")
        assert make_clip(tmp_path, kind, 10) == target and target.read_bytes() == b"cached"
    # A different length is a different file: its own name in its own folder (the indexer takes
    # folders, so two lengths side by side would both be indexed).
    for kind in EXPECTED:
        assert clip_path(tmp_path, kind, 20).parent != clip_path(tmp_path, kind, 10).parent
    # Runs longer than the base clip index whole repeats of it (looped by make_clip, tested below).
    assert looped_seconds("h264_1080p_gop1", 60) == 60 and clip_seconds("h264_1080p_gop1", 60) == 10
    assert looped_seconds("hevc10_4k_gop1", 60) == 60 and clip_seconds("hevc10_4k_gop1", 60) == 4
    assert looped_seconds("h264_1080p_gop1", 10) == 10 and looped_seconds("hevc10_4k_gop1", 10) == 4


@pytest.mark.parametrize("kind", ["h264_1080p_gop2", "hevc10_4k_gop1", "prores_hq_1080p"])
def test_a_looped_clip_plays_as_one_continuous_clip_of_whole_repeats(tmp_path, kind, monkeypatch):
    import av

    import tests.bench.codec_footage as cf

    # Tiny base clips written the way the recipes write them (2 s; H.264 through footage.py).
    if kind.startswith("h264"):
        base = make_textured(tmp_path / "base", "360p", gop=2.0, seconds=2, frames=_frames())
    else:
        suffix = "mp4" if "hevc" in kind else "mov"
        base = write_clip(tmp_path / "base" / f"base.{suffix}", RECIPES[kind], 2, _frames(), size=(256, 144))
    target = loop_clip(base, tmp_path / "long" / f"long{base.suffix}", 3)
    info, base_info = describe(target), describe(base)
    assert (info["codec"], info["profile"], info["pix_fmt"]) == EXPECTED[kind]
    assert math.isclose(info["duration_s"], 6.0, abs_tol=0.05)
    assert info["keyframes"] == 3 * base_info["keyframes"]
    with av.open(str(target)) as c:
        times = [float(f.time) for f in c.decode(video=0)]
    assert len(times) == 3 * 2 * FPS, "every repeat decodes every frame"
    assert all(b > a for a, b in itertools.pairwise(times)), "timestamps run on across repeats"
    assert math.isclose(times[2 * FPS], 2.0, abs_tol=1e-6), "the second repeat starts where the first ended"
    assert not list(target.parent.glob("part-*"))
    # make_clip loops a cached base (no source frames read) for a run longer than BASE_SECONDS.
    monkeypatch.setattr(cf, "_source_frames", lambda: pytest.fail("sources read to loop a cached base"))
    monkeypatch.setattr(cf, "BASE_SECONDS", 2)
    monkeypatch.setattr(cf, "clip_seconds", lambda k, s: 2)
    monkeypatch.setattr(cf, "clip_path", lambda out, k, s: out / f"s{s}" / f"clip{base.suffix}")
    (tmp_path / "c" / "s2").mkdir(parents=True)
    (tmp_path / "c" / "s2" / f"clip{base.suffix}").write_bytes(base.read_bytes())
    made = cf.make_clip(tmp_path / "c", kind, 4)
    assert made == tmp_path / "c" / "s4" / f"clip{base.suffix}"
    assert math.isclose(describe(made)["duration_s"], 4.0, abs_tol=0.05)


def test_overlap_bounds_for_stages_sharing_two_cores():
    # Decoding 2 s and encoding 1 s, each using both cores alone: their 6 CPU-s need 3 s on 2
    # cores, so no pipeline can beat 3 s, i.e. 67 % of the slower stage alone.
    ov = overlap(dp_s=2.0, e_s=1.0, pipeline_s=3.0, dp_cpu_s=4.0, e_cpu_s=2.0, cores=2)
    assert ov["serial_s"] == 3.0 and ov["slower_alone_s"] == 2.0 and ov["slower_stage"] == "decode"
    assert ov["cpu_bound_s"] == 3.0 and ov["best_possible_s"] == 3.0
    assert math.isclose(ov["reachable_fraction_of_slower"], 2 / 3)
    assert math.isclose(ov["fraction_of_slower_alone"], 2 / 3) and ov["hidden_share"] == 0.0
    assert ov["decode_cores_alone"] == 2.0 and ov["encode_cores_alone"] == 2.0


def test_overlap_of_single_threaded_stages_can_reach_the_slower_one():
    # One core each: perfect overlap runs them side by side, so the bound is the slower stage.
    ov = overlap(dp_s=2.0, e_s=1.0, pipeline_s=2.0, dp_cpu_s=2.0, e_cpu_s=1.0, cores=2)
    assert ov["best_possible_s"] == 2.0 and ov["reachable_fraction_of_slower"] == 1.0
    assert ov["fraction_of_slower_alone"] == 1.0 and ov["hidden_share"] == 1.0
    # The same work while the machine gives this process only one core: nothing can overlap.
    busy = overlap(dp_s=2.0, e_s=1.0, pipeline_s=3.0, dp_cpu_s=2.0, e_cpu_s=1.0, cores=2, capacity=1.0)
    assert busy["cpu_bound_s"] == 3.0 and math.isclose(busy["reachable_fraction_of_slower"], 2 / 3)
    # Worse than running the stages one after the other shows as a negative hidden share.
    assert overlap(dp_s=2.0, e_s=1.0, pipeline_s=4.0, dp_cpu_s=2.0, e_cpu_s=1.0, cores=2)["hidden_share"] == -1.0


def test_overlap_refuses_nonsense():
    with pytest.raises(ValueError):
        overlap(dp_s=0.0, e_s=1.0, pipeline_s=1.0, dp_cpu_s=0.0, e_cpu_s=1.0, cores=2)
    with pytest.raises(ValueError):
        overlap(dp_s=1.0, e_s=1.0, pipeline_s=1.0, dp_cpu_s=1.0, e_cpu_s=1.0, cores=0)


def test_available_cores_is_a_share_of_the_cores():
    got = available_cores(2, seconds=0.05)
    assert 0.0 < got <= 2.0
