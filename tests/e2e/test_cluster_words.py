"""Words (speech, on-screen text) read on a real local Ray cluster: the same words rows as a local run,
and a worker killed mid-file loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.core.speech_helpers import bundled_tiny_en
from tests.e2e.conftest import cli_env, cli_path, run_cli
from tests.e2e.library_checks import count_rows
from tests.synth.screen_text import TextOverlay, write_text_clip
from tests.synth.speech import have_espeak, write_speech_clip
from tests.synth.videos import SceneSpec, write_video

pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")]

SOURCES = ("--words-sources", "said,written")


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster-words-footage")
    write_speech_clip(root / "talk.mp4", [(1.0, "the delivery truck arrives at noon")], duration=5.0)
    write_text_clip(root / "slate.mp4", [TextOverlay("SC 12 TK 3", 1.0, 4.0, size=72)], duration=6.0)
    write_video(root / "quiet.mp4", [SceneSpec("red", "circle", "grass", "still", 0.0, 3.0)], width=128, height=96)
    return root


@pytest.fixture(scope="module")
def visual_home(footage: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library with the footage indexed by look only and the speech model imported: the cluster
    runs below then start words workers only (no CLIP workers), which keeps them short."""
    home = tmp_path_factory.mktemp("visual-home")
    run_cli(home, "models", "import-speech", bundled_tiny_en(), "--as", "tiny.en")
    run_cli(home, "index", footage, "--no-words", "--quiet")
    return home


@pytest.fixture(scope="module")
def local_words(visual_home: Path, footage: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = _copy(visual_home, tmp_path_factory.mktemp("local") / "home")
    summary = index(home, footage)
    assert summary["words"]["errors"] == [] and summary["words"]["files"] == 3, summary
    return words_rows(home)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def index(home: Path, footage: Path, *extra: str, **env: str) -> dict[str, object]:
    proc = subprocess.run(
        [cli_path(), "index", str(footage), *SOURCES, "--json", *extra],
        env=cli_env(home, REELSEEK_SPEECH_MODEL="tiny.en", **env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def words_rows(home: Path) -> dict[str, object]:
    """Every words row by file name: the lines (times, text, confidence, word times) and the statuses."""
    conn = sqlite3.connect(home / "library.sqlite3")
    try:
        out: dict[str, object] = {}
        for path, fid in conn.execute("SELECT path, id FROM files"):
            lines = conn.execute(
                "SELECT source, start_s, end_s, text, language, confidence, words FROM word_lines"
                " WHERE file_id=? ORDER BY source, start_s, text",
                (fid,),
            ).fetchall()
            status = conn.execute(
                "SELECT source, status, reason, signature, lines FROM words_status WHERE file_id=? ORDER BY source",
                (fid,),
            ).fetchall()
            out[Path(path.decode() if isinstance(path, bytes) else path).name] = (lines, status)
        return out
    finally:
        conn.close()


def assert_read_everything(rows: dict[str, object]) -> None:
    """The fixture is not trivial: the speech and the slate were read, by the sources meant to read them."""
    talk_lines, _ = rows["talk.mp4"]  # type: ignore[misc]
    slate_lines, _ = rows["slate.mp4"]  # type: ignore[misc]
    assert any(r[0] == "said" and "truck" in r[3].lower() for r in talk_lines), talk_lines
    assert any(r[0] == "written" and "SC 12" in r[3] for r in slate_lines), slate_lines


def test_cluster_words_equal_a_local_run(
    footage: Path, visual_home: Path, local_words: dict[str, object], tmp_path: Path
) -> None:
    home = _copy(visual_home, tmp_path / "home")
    summary = index(home, footage, "--cluster", "auto")
    assert summary["indexed"] == 0 and summary["words"]["errors"] == [], summary  # words only: vectors were there
    assert summary["words"]["files"] == 3
    got = words_rows(home)
    assert_read_everything(got)
    assert got == local_words
    # A second run reads nothing again: no (file, source) is committed twice.
    again = index(home, footage, "--cluster", "auto")
    assert again["words"]["files"] == 0 and again["words"]["lines"] == 0, again
    assert words_rows(home) == local_words


def test_worker_killed_mid_words_file_loses_nothing(
    footage: Path, visual_home: Path, local_words: dict[str, object], tmp_path: Path
) -> None:
    home = _copy(visual_home, tmp_path / "home")
    marker = tmp_path / "fault-fired"
    # The worker kills itself after reading talk.mp4's speech, before it answers: that file's
    # attempt is lost whole and read again by the restarted worker in the same run.
    summary = index(home, footage, "--cluster", "auto", REELSEEK_CLUSTER_WORDS_FAULT=f"talk:{marker}")
    assert marker.exists(), "the worker never reached the fault: the test proves nothing"
    assert summary["words"]["errors"] == [], summary
    assert words_rows(home) == local_words
    rerun = index(home, footage, "--cluster", "auto")
    assert rerun["words"]["files"] == 0 and words_rows(home) == local_words


def test_driver_killed_mid_words_pass_resumes_to_the_same_rows(
    footage: Path, visual_home: Path, local_words: dict[str, object], tmp_path: Path
) -> None:
    # The kill must land after the first (file, source) result is committed and before the last
    # (3 files x 2 sources); a run that commits everything between two polls proves nothing and
    # is tried again.
    for attempt in range(3):
        home = _copy(visual_home, tmp_path / f"home{attempt}")
        if _kill_driver_mid_words(home, footage):
            break
    else:
        pytest.fail("the driver never got killed between its first and its last words commit in 3 tries")
    summary = index(home, footage, "--cluster", "auto")
    assert summary["words"]["errors"] == [], summary
    assert words_rows(home) == local_words


def _kill_driver_mid_words(home: Path, footage: Path) -> bool:
    db = home / "library.sqlite3"
    proc = subprocess.Popen(
        [cli_path(), "index", str(footage), *SOURCES, "--cluster", "auto", "--quiet"],
        env=cli_env(home, REELSEEK_SPEECH_MODEL="tiny.en"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the local Ray processes die with the driver's session
    )
    try:
        # No clock: the driver either commits words or ends (pytest-timeout bounds a hang).
        while proc.poll() is None:
            if count_rows(db, "SELECT COUNT(*) FROM words_status") >= 1:
                break
            time.sleep(0.1)
        if proc.poll() is not None:
            return False
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return 1 <= count_rows(db, "SELECT COUNT(*) FROM words_status") < 6
