"""A damaged, truncated, emptied or lost database is never a silent empty library: a clear
error naming the file and `doctor --repair`, which brings back the same search results."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.errors import EXIT_DAMAGED
from tests.e2e.conftest import cli_env, cli_path, run_cli, search_json
from tests.e2e.library_checks import assert_every_file_findable, assert_index_equals_store, count_rows
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow
QUERIES = ("red circle", "green square")


def moments(home: Path) -> list[list[tuple[str, float, float]]]:
    return [[(h["path"], h["start"], h["end"]) for h in search_json(home, q, "--limit", "5")] for q in QUERIES]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    videos = make_library(root, n_videos=5, codecs=("h264",), seed=61, scene_seconds=(2.0, 3.0))
    home = tmp_path_factory.mktemp("home")
    run_cli(home, "index", root, "--quiet")
    assert list((home / "backups").glob("library-*.sqlite3")), "an index run leaves a backup"
    probe = tmp_path_factory.mktemp("probe") / "home"
    shutil.copytree(home, probe)
    status = json.loads(run_cli(probe, "status", "--json").stdout)
    return home, root, sorted(v.path for v in videos), moments(probe), status


def _random_bytes_inside(db: Path) -> None:
    data = bytearray(db.read_bytes())
    at = (len(data) // 2) // 4096 * 4096
    data[at : at + 8192] = np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes()
    db.write_bytes(bytes(data))


def _truncated(db: Path) -> None:
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2)


DAMAGE = {
    "random-bytes": _random_bytes_inside,
    "truncated": _truncated,
    "zero-bytes": lambda db: db.write_bytes(b""),
    "missing": lambda db: db.unlink(),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_reported_and_repaired(indexed, tmp_path, kind):
    home0, _root, files, want, status = indexed
    home = tmp_path / "home"
    shutil.copytree(home0, home)
    db = home / "library.sqlite3"
    DAMAGE[kind](db)
    for args in (("status",), ("search", "red circle"), ("index", "--quiet")):
        proc = run_cli(home, *args, check=False)
        assert proc.returncode == EXIT_DAMAGED, (args, proc)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(db) in lines[0] and "doctor --repair" in lines[0], (args, proc.stderr)
        assert "[]" not in proc.stdout
    check = run_cli(home, "doctor", check=False)
    assert check.returncode == EXIT_DAMAGED, check
    fixed = run_cli(home, "doctor", "--repair")
    assert "restored the backup" in fixed.stdout, fixed.stdout
    assert moments(home) == want
    assert json.loads(run_cli(home, "status", "--json").stdout) == status
    assert run_cli(home, "doctor").returncode == 0
    assert_index_equals_store(home)
    if kind != "missing":
        assert list(home.glob("library.sqlite3.damaged-*")), "the damaged file is kept aside"
    assert_every_file_findable(home, files)


def _done(db: Path) -> int:
    return count_rows(db)


def test_lost_wal_after_a_kill_is_not_a_silent_empty_library(tmp_path):
    """The first index run is killed; its write-ahead log (every commit so far) is deleted."""
    root = tmp_path / "footage"
    files = sorted(v.path for v in make_library(root, n_videos=12, codecs=("h264",), seed=62, scene_seconds=(4.0, 6.0)))
    home = tmp_path / "home"
    db = home / "library.sqlite3"
    proc = subprocess.Popen([cli_path(), "index", str(root), "--quiet"], env=cli_env(home))
    while _done(db) < 2 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)  # freeze it where it is, then look, then kill
    done = _done(db)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 2 <= done < len(files), "the kill must land in the middle of the run"
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    st = run_cli(home, "status", check=False)
    assert st.returncode == EXIT_DAMAGED, st
    assert str(db) in st.stderr and "doctor --repair" in st.stderr
    se = run_cli(home, "search", "red circle", check=False)
    assert se.returncode == EXIT_DAMAGED and "[]" not in se.stdout, se
    fixed = run_cli(home, "doctor", "--repair")
    assert "new library" in fixed.stdout, fixed.stdout
    run_cli(home, "index", root, "--quiet")
    assert_index_equals_store(home)
    assert_every_file_findable(home, files)
