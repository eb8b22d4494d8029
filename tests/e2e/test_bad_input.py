"""Broken, odd and unreadable files get a clear reason; everything else is indexed; exit code 0."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from tests.e2e.conftest import cli_env, cli_path, run_cli, search_json
from tests.synth.videos import SceneSpec, write_video

pytestmark = pytest.mark.slow


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44100)
        stream.layout = "mono"
        t = np.arange(44100 * 2) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, i : i + 1024], format="flt", layout="mono")
            frame.sample_rate = 44100
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode(None):
            out.mux(pkt)


def _unprivileged() -> list[str]:
    """Root reads everything: run as root without the capabilities that bypass file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_unprivileged(), cli_path(), *args],
        env=cli_env(home),
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=600,
    )


def test_bad_files_get_reasons_and_the_rest_is_indexed(tmp_path):
    root = tmp_path / "footage"
    root.mkdir()
    good = SceneSpec("red", "circle", "grass", "still", 0.0, 3.0)
    write_video(root / "good.mp4", [good], codec="h264", fps=10, width=192, height=144, seed=1)
    # Odd but valid names: not UTF-8, very long, spaces and emoji.
    odd = os.fsdecode(b"caf\xe9 \xff take 1.mp4")
    write_video(
        root / odd,
        [SceneSpec("blue", "square", "sand", "still", 0.0, 3.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=2,
    )
    long_name = ("very long name " * 16)[:240] + ".mkv"
    write_video(
        root / long_name,
        [SceneSpec("green", "star", "sky", "still", 0.0, 3.0)],
        codec="hevc",
        fps=10,
        width=192,
        height=144,
        seed=3,
    )
    write_video(
        root / "scène 🎬.webm",
        [SceneSpec("white", "ring", "plain", "still", 0.0, 3.0)],
        codec="vp9",
        fps=10,
        width=192,
        height=144,
        seed=4,
    )

    (root / "zero.mp4").write_bytes(b"")
    (root / "random.mp4").write_bytes(np.random.default_rng(0).bytes(200_000))
    full = root / "full.mp4"
    write_video(
        full,
        [SceneSpec("orange", "triangle", "noise", "still", 0.0, 6.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=5,
    )
    data = full.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])
    full.unlink()
    _audio_only(root / "audio only.mp4")
    unreadable = root / "locked.mp4"
    write_video(
        unreadable,
        [SceneSpec("purple", "cross", "night", "still", 0.0, 3.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=6,
    )
    unreadable.chmod(0)
    (root / "notes.txt").write_text("not a video")  # ignored: not a video extension

    home = tmp_path / "home"
    proc = _cli(home, "index", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["indexed"] == 4, summary

    st = json.loads(_cli(home, "status", "--json").stdout)
    assert st["counts"]["done"] == 4
    reasons = {Path(e["path"]).name: e["error"] for e in st["errors"]}
    assert set(reasons) == {"zero.mp4", "random.mp4", "truncated.mp4", "audio only.mp4", "locked.mp4"}, reasons
    assert "empty" in reasons["zero.mp4"].lower()
    assert "audio" in reasons["audio only.mp4"].lower()
    assert "truncat" in reasons["truncated.mp4"].lower() or "invalid" in reasons["truncated.mp4"].lower()
    assert "permission" in reasons["locked.mp4"].lower()
    for name, why in reasons.items():
        assert "Traceback" not in why and len(why) < 300, (name, why)

    # The human summary says the same, on stdout, with exit code 0.
    again = _cli(home, "status")
    assert again.returncode == 0 and "zero.mp4" in again.stdout

    # Odd names are searchable and come back as paths that open.
    hits = search_json(home, good.caption(), "--limit", "10", "--no-group", "--all")
    assert Path(hits[0]["path"]).name == "good.mp4"
    paths = {Path(h["path"]).name for h in hits}
    assert odd in paths and long_name in paths
    for h in hits:
        assert os.path.exists(h["path"])


def test_unreadable_subfolder_keeps_what_was_indexed(tmp_path):
    root = tmp_path / "footage"
    sub = root / "locked day"
    sub.mkdir(parents=True)
    write_video(
        sub / "a.mp4",
        [SceneSpec("red", "circle", "grass", "still", 0.0, 3.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=1,
    )
    write_video(
        root / "b.mp4",
        [SceneSpec("blue", "square", "sand", "still", 0.0, 3.0)],
        codec="h264",
        fps=10,
        width=192,
        height=144,
        seed=2,
    )
    home = tmp_path / "home"
    first = _cli(home, "index", str(root), "--json")
    assert json.loads(first.stdout)["indexed"] == 2
    sub.chmod(0)
    try:
        second = _cli(home, "index", "--json")
        assert second.returncode == 0, second.stderr
        s = json.loads(second.stdout)
        assert s["removed"] == 0, s
        assert any("cannot read folder" in e["error"] for e in s["errors"]), s
    finally:
        sub.chmod(stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
    st = json.loads(run_cli(home, "status", "--json").stdout)
    assert st["counts"]["done"] == 2
