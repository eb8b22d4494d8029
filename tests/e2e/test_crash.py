"""kill -9 in the middle of indexing never loses or duplicates anything; the next run finishes the job."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from reelseek.core.library import Library
from tests.e2e.conftest import TEST_MODEL, cli_env, cli_path, run_cli
from tests.e2e.library_checks import count_rows
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow


def snapshot(home: Path) -> dict[str, object]:
    """What must be equal between a crashed-and-resumed library and an uninterrupted one."""
    conn = sqlite3.connect(home / "library.sqlite3")
    per_file = dict(
        conn.execute(
            "SELECT f.path, COUNT(s.id) FROM files f LEFT JOIN segments s ON s.file_id=f.id "
            "GROUP BY f.id ORDER BY f.path"
        ).fetchall()
    )
    statuses = dict(conn.execute("SELECT path, status FROM files").fetchall())
    n_segments = conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    conn.close()
    lib = Library(home, model_id=TEST_MODEL)
    vi = lib.vector_index()
    n_vectors = len(vi)
    keys = vi._index.keys  # every stored key, to check there are no duplicates or strays
    key_list = sorted(int(k) for k in keys)
    seg_ids = sorted(r[0] for r in lib.store.conn.execute("SELECT id FROM segments"))
    lib.close()
    return {
        "per_file": {Path(k.decode()).name: v for k, v in per_file.items()},
        "statuses": {Path(k.decode()).name: v for k, v in statuses.items()},
        "segments": n_segments,
        "vectors": n_vectors,
        "keys_match_segments": key_list == seg_ids,
    }


def test_kill_9_at_several_moments_then_resume(tmp_path):
    root = tmp_path / "footage"
    videos = make_library(root, n_videos=10, codecs=("h264", "vp9"), seed=21, scene_seconds=(4.0, 6.0))
    reference = tmp_path / "reference"
    run_cli(reference, "index", root, "--json")
    want = snapshot(reference)
    assert want["segments"] > 0 and want["keys_match_segments"]

    home = tmp_path / "crashy"
    db = home / "library.sqlite3"

    def done_count() -> int:
        return count_rows(db)

    # Kill while starting up, then each time a few more files have been committed (polling the
    # database, so the moments do not depend on how busy the machine is).
    kills = 0
    for target in (None, 2, 5, 8):
        proc = subprocess.Popen(
            [cli_path(), "index", str(root), "--quiet"],
            env=cli_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if target is None:
            time.sleep(1.0)
        else:
            while done_count() < target and proc.poll() is None:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += target is not None and 0 < done_count() < len(videos)
    # The kills landed in the middle of the work (not before it started or after it ended).
    assert kills >= 2

    final = json.loads(run_cli(home, "index", root, "--json").stdout)
    assert final["errors"] == []
    got = snapshot(home)
    assert got == want
