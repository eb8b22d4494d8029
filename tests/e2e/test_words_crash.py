"""kill -9 during the words pass loses nothing: the rerun ends with exactly the words of a clean run."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.e2e.library_checks import count_rows
from tests.synth.subtitles import long_srt, write_sidecar
from tests.synth.videos import SceneSpec, write_video

pytestmark = pytest.mark.slow
N_FILES = 12
CUES = 3000  # enough lines per file that the pass takes a while to read and index


def words_snapshot(home: Path) -> dict[str, object]:
    conn = sqlite3.connect(home / "library.sqlite3")
    try:
        conn.execute("INSERT INTO word_fts(word_fts, rank) VALUES('integrity-check', 1)")
        per_file = {}
        for path, fid in conn.execute("SELECT path, id FROM files"):
            texts = [r[0] for r in conn.execute("SELECT text FROM word_lines WHERE file_id=? ORDER BY start_s", (fid,))]
            st = conn.execute("SELECT source, status, lines FROM words_status WHERE file_id=?", (fid,)).fetchall()
            per_file[Path(path.decode()).name] = (len(texts), hashlib.sha1("\n".join(texts).encode()).hexdigest(), st)
        fts_hits = conn.execute("SELECT COUNT(*) FROM word_fts WHERE word_fts MATCH 'charlie'").fetchone()[0]
        like_hits = conn.execute("SELECT COUNT(*) FROM word_lines WHERE text LIKE '%charlie%'").fetchone()[0]
        segments = conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        return {"per_file": per_file, "fts_matches_lines": fts_hits == like_hits, "segments": segments}
    finally:
        conn.close()


def test_kill_9_during_words_pass_then_resume(tmp_path):
    root = tmp_path / "footage"
    colours = ["red", "blue", "green", "yellow", "purple", "white"]
    for i in range(N_FILES):
        spec = [SceneSpec(colours[i % 6], "circle" if i < 6 else "square", "grass", "still", 0.0, 2.0)]
        write_video(root / f"clip_{i:02d}.mp4", spec, width=64, height=64)
        write_sidecar(root / f"clip_{i:02d}.srt", long_srt(CUES, seed=i))
    reference = tmp_path / "reference"
    run_cli(reference, "index", root, "--words-sources", "subtitle", "--json")
    want = words_snapshot(reference)
    assert all(v[0] == CUES for v in want["per_file"].values())  # type: ignore[union-attr]

    home = tmp_path / "crashy"
    run_cli(home, "index", root, "--no-words", "--json")  # the visual pass first, words not yet read
    db = home / "library.sqlite3"

    def words_done() -> int:
        return count_rows(db, "SELECT COUNT(*) FROM words_status")

    kills = 0
    for target in (2, 6, 9):
        proc = subprocess.Popen(
            [cli_path(), "index", str(root), "--quiet", "--words-sources", "subtitle"],
            env=cli_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while words_done() < target and proc.poll() is None:
            time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 0 < words_done() < N_FILES
    assert kills >= 2  # the kills landed inside the words pass

    final = json.loads(run_cli(home, "index", root, "--words-sources", "subtitle", "--json").stdout)
    assert final["errors"] == [] and final["words"]["errors"] == []
    assert final["indexed"] == 0  # the vectors survived every kill: nothing re-embedded
    assert words_snapshot(home) == want
