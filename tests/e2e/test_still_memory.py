"""A huge still as the query stays within a bounded memory of a normal search (peak RSS of the child)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.synth.big_png import write_big_png
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow

MARGIN_MB = 400  # "within a few hundred MB of a normal search"


@pytest.fixture(scope="module")
def still_library(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("still-footage")
    make_library(root, n_videos=2, codecs=("h264",), seed=3, scene_seconds=(2.0, 3.0))
    home = tmp_path_factory.mktemp("still-home")
    run_cli(home, "index", root, "--quiet")
    return home, root


def _measure(home: Path, *args: str | os.PathLike[str]) -> tuple[float, str, str, int]:
    """The child's own peak RSS in MB (wait4: no other process counts), stdout, stderr, exit code."""
    out_path, err_path = home / "child.out", home / "child.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([cli_path(), *map(str, args)], env=cli_env(home), stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return (
        usage.ru_maxrss / per_mb,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        proc.returncode,
    )


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs wait4 to read one child's peak memory")
def test_huge_png_query_stays_near_a_normal_search(still_library, tmp_path):
    home, _root = still_library
    small = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(small)
    normal, out, err, rc = _measure(home, "search", "--image", small, "--json")
    assert rc == 0, err
    assert json.loads(out), "the normal search found nothing"

    # 13,300² RGBA (under Pillow's bomb limit; 5.3 GB before) and 13,000² grey (2.8 GB before).
    for name, size, mode in (("huge-rgba.png", 13_300, "RGBA"), ("huge-grey.png", 13_000, "L")):
        big = write_big_png(tmp_path / name, size, mode)
        assert big.stat().st_size < 4_000_000  # it compresses small: the danger is the decode
        peak, out, err, rc = _measure(home, "search", "--image", big, "--json")
        assert rc == 0, err
        assert "Traceback" not in err
        assert json.loads(out), f"{name}: no results"
        assert peak <= normal + MARGIN_MB, f"{name}: peak {peak:.0f} MB vs a normal search {normal:.0f} MB"
        big.unlink()


def test_damaged_empty_and_non_image_stills_are_clear_errors(still_library, tmp_path):
    home, _root = still_library
    good = write_big_png(tmp_path / "good.png", 1200, "RGBA")
    data = good.read_bytes()
    cases = {
        "truncated.png": data[: len(data) // 2],
        "garbled.png": data[:400] + bytes(range(256)) * 16 + data[400 + 4096 :],
        "zero.png": b"",
        "zero.jpg": b"",
        "notes.png": b"shot list: red car, blue door\n" * 40,
        "clip.jpg": b"\x00\x00\x00\x18ftypmp42" + bytes(2000),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        proc = run_cli(home, "search", "--image", path, check=False, timeout=300)
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (name, proc.stderr)
        line = proc.stderr.strip()
        assert line.startswith("reelseek-cli: ") and len(line.splitlines()) == 1, (name, line)
        assert any(w in line for w in ("damaged", "truncated", "empty", "not an image")), (name, line)
