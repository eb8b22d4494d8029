"""Stills in the formats editors get (iPhone HEIC, AVIF) search through the real CLI like a JPEG."""

from __future__ import annotations

import math
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, features

from reelseek.core import media
from tests.e2e.conftest import run_cli, search_json
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    videos = make_library(root, n_videos=4, codecs=("h264",), seed=47)
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--json")
    return home, videos


def _frame(video, scene_index: int) -> tuple[Image.Image, float]:
    """A frame the indexer sampled (a whole second) in the middle of one scene."""
    scene = video.scenes[scene_index]
    t = float(math.floor((scene.start + scene.end) / 2))
    if not scene.start <= t < scene.end:
        t = float(math.ceil(scene.start))
    return Image.fromarray(media.read_frame(video.path, t, max_width=640)), t


def _save(img: Image.Image, path: Path) -> Path:
    if path.suffix.lower() in (".heic", ".heif"):
        # pillow-heif writes HEIC (HEVC in HEIF, what iPhones shoot), independent of the opener
        # reelseek registers in the CLI process.
        pillow_heif.from_pillow(img).save(path, quality=85)
    else:
        img.save(path, quality=70)
    return path


@pytest.mark.parametrize("name", ["IMG_0417.HEIC", "still.heic", "grab.avif"])
def test_heic_and_avif_stills_find_their_clip(library, tmp_path, name):
    home, videos = library
    assert features.check("avif"), "Pillow without AVIF: pyproject requires pillow>=11.3 (wheels ship libavif)"
    video = videos[2]
    img, t = _frame(video, 1)
    still = _save(img, tmp_path / name)
    if still.suffix == ".avif":
        with Image.open(still) as check:
            assert check.format == "AVIF"
    else:
        assert pillow_heif.is_supported(still) and still.read_bytes()[4:12] == b"ftypheic"
    hits = search_json(home, "--image", still, "--limit", "5")
    assert hits, f"no results for {name}"
    top = hits[0]
    assert Path(top["path"]).name == video.path.name, hits
    assert top["start"] - 0.5 <= t <= top["end"] + 0.5, (t, top)


def test_corrupt_heic_is_a_clear_error(library, tmp_path):
    home, videos = library
    img, _ = _frame(videos[0], 0)
    good = _save(img, tmp_path / "good.heic").read_bytes()
    cut = tmp_path / "cut.heic"
    cut.write_bytes(good[: len(good) // 3])  # the picture's data lies past the end of the file
    garbage = tmp_path / "garbage.heic"
    garbage.write_bytes(b"\0" * 64 + good[64:])  # the HEIF box header is gone
    empty = tmp_path / "empty.heic"
    empty.write_bytes(b"")
    for bad, says in ((cut, "damaged"), (garbage, "not an image"), (empty, "empty")):
        proc = run_cli(home, "search", "--image", bad, check=False)
        assert proc.returncode == 2, (bad.name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and says in proc.stderr.lower(), (bad.name, proc.stderr)
        assert proc.stderr.count("\n") <= 2, proc.stderr  # one readable line, not libheif's dump
    # The library is untouched by the failed queries.
    assert len(search_json(home, "--image", _save(img, tmp_path / "again.heic"), "--limit", "3")) > 0
