"""A still or a clip taken from real footage finds that footage, at the right seconds."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelseek.core import media
from tests.e2e.conftest import run_cli, search_json
from tests.footage import real_clip
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow

REAL = ("cockatoo.mp4", "bigbuckbunny.mp4", "bikes.mp4", "realshort.mp4")


@pytest.fixture(scope="module")
def real_library(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    for name in REAL:
        shutil.copy(real_clip(name), root / name)
    generated = make_library(root / "generated", n_videos=3, codecs=("h264",), seed=31)
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--json")
    return home, root, generated


def _degraded_still(video: Path, t: float, out: Path) -> None:
    """The frame at t, downscaled and JPEG-recompressed as a still pulled from an email would be."""
    rgb = media.read_frame(video, t, max_width=640)
    img = Image.fromarray(rgb)
    img = img.resize((max(1, img.width * 6 // 10), max(1, img.height * 6 // 10)), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=60)
    out.write_bytes(buf.getvalue())


@pytest.mark.parametrize("name", ["cockatoo.mp4", "bigbuckbunny.mp4", "bikes.mp4"])
def test_still_finds_its_clip_and_time(real_library, tmp_path, name):
    home, root, _ = real_library
    video = root / name
    duration = media.probe(video).duration
    # A whole second: the frame is one the indexer sampled (1 per second). The tiny test model
    # is trained on generated shapes, not natural footage, so between samples of a fast-moving
    # real shot its similarities are too coarse to be a fair test of the pipeline.
    t = float(round(duration * 0.6))
    still = tmp_path / "still.jpg"
    _degraded_still(video, t, still)
    hits = search_json(home, "--image", still, "--limit", "5")
    top = hits[0]
    assert Path(top["path"]).name == name, hits
    assert top["start"] - 0.5 <= t <= top["end"] + 0.5, (t, top)


def test_clip_query_finds_its_source(real_library, tmp_path):
    home, _root, generated = real_library
    source = generated[1]
    scene = source.scenes[1]
    # Re-encode the middle of one scene at another size and codec, like a proxy or a screen grab.
    clip = tmp_path / "grab.webm"
    lo, hi = scene.start + 0.5, scene.end - 0.5
    frames = [f.thumb for f in media.sample_frames(source.path, every=0.25, size=64, thumb_width=320) if lo <= f.t < hi]
    assert frames
    with av.open(str(clip), "w") as out:
        h, w = frames[0].shape[:2]
        stream = out.add_stream("libvpx-vp9", rate=4)
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        for rgb in frames:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2]), format="rgb24")
            for pkt in stream.encode(vf):
                out.mux(pkt)
        for pkt in stream.encode(None):
            out.mux(pkt)
    hits = search_json(home, "--clip", clip, "--limit", "5")
    assert Path(hits[0]["path"]) == source.path, hits
    assert hits[0]["start"] < hi and hits[0]["end"] > lo, (hits[0], scene)


def test_missing_or_bad_query_files_are_clear_errors(real_library, tmp_path):
    home, _, _ = real_library
    missing = run_cli(home, "search", "--image", tmp_path / "nope.jpg", check=False)
    assert missing.returncode == 2 and "not found" in missing.stderr
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"definitely not an image")
    bad = run_cli(home, "search", "--image", junk, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.strip()
