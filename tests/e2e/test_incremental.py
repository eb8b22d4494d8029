"""Re-running `index` only does what changed: unchanged, touched, changed, moved, deleted, unplugged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli, search_json
from tests.synth.videos import SceneSpec, make_library, write_video

pytestmark = pytest.mark.slow


def index(home: Path, *paths: Path) -> dict:
    return json.loads(run_cli(home, "index", *paths, "--json").stdout)


def status(home: Path) -> dict:
    return json.loads(run_cli(home, "status", "--json").stdout)


def test_incremental_runs(tmp_path):
    drive = tmp_path / "drive"
    root = drive / "footage"
    videos = make_library(root, n_videos=4, codecs=("h264", "vp9"), seed=3)
    home = tmp_path / "home"

    first = index(home, root)
    assert first["indexed"] == 4 and first["errors"] == []

    # 1. Nothing changed: nothing is embedded again.
    second = index(home)
    assert second["indexed"] == 0 and second["unchanged"] == 4

    # 2. Touched (mtime only): same content, not re-embedded.
    os.utime(videos[0].path, (1_000_000_000, 1_000_000_000))
    assert index(home)["indexed"] == 0

    # 3. Changed content at the same path: re-embedded, and its new scene is what search finds.
    new_scene = SceneSpec("yellow", "star", "sand", "still", 0.0, 4.0)
    if any(s.triple == new_scene.triple for v in videos for s in v.scenes):
        new_scene = SceneSpec("purple", "cross", "sky", "still", 0.0, 4.0)
    write_video(videos[1].path, [new_scene], codec=videos[1].codec, fps=10, width=192, height=144, seed=99)
    changed = index(home)
    assert changed["indexed"] == 1
    top = search_json(home, new_scene.caption(), "--limit", "1")[0]
    assert Path(top["path"]) == videos[1].path

    # 4. Renamed and moved into a subfolder: recognised by content, not re-embedded.
    moved_to = root / "day 2" / "renamed clip.mp4"
    moved_to.parent.mkdir()
    shutil.move(videos[2].path, moved_to)
    moved = index(home)
    assert moved["indexed"] == 0 and moved["moved"] == 1
    caption = videos[2].scenes[0].caption()
    top = search_json(home, caption, "--limit", "1")[0]
    assert Path(top["path"]) == moved_to

    # 5. Deleted: gone from the library and from results.
    gone = videos[3]
    gone.path.unlink()
    deleted = index(home)
    assert deleted["removed"] == 1
    paths = {Path(m["path"]) for m in search_json(home, gone.scenes[0].caption(), "--limit", "20")}
    assert gone.path not in paths
    assert status(home)["counts"]["done"] == 3

    # 6. Drive unplugged: files are offline, still listed, still found; nothing is lost.
    unplugged = tmp_path / "unplugged"
    drive.rename(unplugged)
    off = index(home)
    assert off["offline"] == 3 and off["removed"] == 0
    st = status(home)
    assert st["counts"]["offline"] == 3 and st["counts"]["done"] == 0
    hits = search_json(home, caption, "--limit", "1")
    assert hits and hits[0]["offline"] is True and Path(hits[0]["path"]) == moved_to

    # ... and plugged back in: done again without re-embedding anything.
    unplugged.rename(drive)
    back = index(home)
    assert back["indexed"] == 0
    assert status(home)["counts"]["done"] == 3


def test_empty_mount_point_is_offline_not_deleted(tmp_path):
    mount = tmp_path / "mnt"
    videos = make_library(mount, n_videos=2, codecs=("h264",), seed=5)
    home = tmp_path / "home"
    index(home, mount)
    # An unmounted drive often leaves an empty mount-point folder behind.
    hidden = tmp_path / "elsewhere"
    hidden.mkdir()
    for v in videos:
        shutil.move(v.path, hidden / v.path.name)
    run = index(home)
    assert run["removed"] == 0 and run["offline"] == 2
    for v in videos:
        shutil.move(hidden / v.path.name, v.path)
    assert index(home)["indexed"] == 0
    assert status(home)["counts"]["done"] == 2
