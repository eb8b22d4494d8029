"""Searches never write: they work on a read-only home and on a full disk; indexing there says
so in one line with its own exit code, loses nothing, and the next run on a good disk completes."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelseek.core.errors import EXIT_DISK_FULL, EXIT_READ_ONLY
from tests.e2e.conftest import run_cli, search_json
from tests.e2e.library_checks import assert_every_file_findable, assert_index_equals_store
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow
QUERIES = ("red circle", "blue stripes")


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@contextlib.contextmanager
def read_only_view(src: Path, view: Path) -> Iterator[Path]:
    """A read-only bind mount of src (root only), the way a read-only share looks."""
    view.mkdir()
    try:
        _sh("mount", "--bind", str(src), str(view))
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot bind-mount (needs root and mount rights; chmod does not bind root): {e}")
    try:
        _sh("mount", "-o", "remount,ro,bind", str(view))
        yield view
    finally:
        _sh("umount", "-l", str(view))


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    try:
        _sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {e}")
    try:
        yield where
    finally:
        _sh("umount", "-l", str(where))


def fill(folder: Path) -> Path:
    """Write until the filesystem is full; returns the filler file."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    return filler


def listing(home: Path) -> dict[str, str]:
    """Every file under the home with a digest of its bytes."""
    return {
        str(p.relative_to(home)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != "filler.bin"
    }


def moments(home: Path) -> list[list[tuple[str, float, float]]]:
    return [[(h["path"], h["start"], h["end"]) for h in search_json(home, q, "--limit", "5")] for q in QUERIES]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    videos = make_library(root, n_videos=4, codecs=("h264",), seed=51, scene_seconds=(2.0, 3.0))
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--quiet")
    # Recorded on a copy, so the original home is left as a clean index run leaves it.
    probe = tmp_path_factory.mktemp("probe") / "home"
    shutil.copytree(home, probe)
    return home, root, sorted(v.path for v in videos), moments(probe)


@pytest.mark.parametrize("companions", [False, True], ids=["clean", "with-wal-files"])
def test_search_on_a_read_only_home(indexed, tmp_path, companions):
    home0, root, _files, want = indexed
    home = tmp_path / "home"
    shutil.copytree(home0, home)
    if companions:  # a search on the writable home left SQLite's -shm/-wal beside the database
        moments(home)
        assert (home / "library.sqlite3-shm").exists()
    before = listing(home)
    with read_only_view(home, tmp_path / "ro") as ro:
        assert moments(ro) == want
        assert run_cli(ro, "status").returncode == 0
        proc = run_cli(ro, "index", root, "--quiet", check=False)
        assert proc.returncode == EXIT_READ_ONLY, proc
        assert len(proc.stderr.strip().splitlines()) == 1 and "read-only" in proc.stderr, proc.stderr
    assert listing(home) == before


def test_search_and_index_on_a_full_disk(indexed, tmp_path):
    home0, _root, files, want = indexed
    with small_tmpfs(tmp_path / "disk", "16m") as disk:
        home = disk / "home"
        shutil.copytree(home0, home)
        before = listing(home)
        filler = fill(disk)
        assert shutil.disk_usage(disk).free < 1 << 16
        # Search: results, and nothing written (no temporary, no rewritten index).
        assert moments(home) == want
        assert not list(home.rglob("*.tmp"))
        assert {k: v for k, v in listing(home).items() if not k.endswith(("-shm", "-wal"))} == {
            k: v for k, v in before.items() if not k.endswith(("-shm", "-wal"))
        }
        # Index new footage on the full disk: one line, its own exit code, nothing lost.
        more = tmp_path / "more"
        new = sorted(v.path for v in make_library(more, n_videos=2, codecs=("h264",), seed=52))
        proc = run_cli(home, "index", more, "--quiet", check=False)
        assert proc.returncode == EXIT_DISK_FULL, proc
        assert len(proc.stderr.strip().splitlines()) == 1 and "disk is full" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert moments(home) == want
        # Space again: the same command completes.
        filler.unlink()
        run_cli(home, "index", more, "--quiet")
        assert_index_equals_store(home)
        assert_every_file_findable(home, files + new)
        assert not list(home.rglob("*.tmp"))
