"""One library, many processes: a search during an index, and two indexers, leave the index
equal to the store and every file findable; a second writer is told who holds the library."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from reelseek.core.errors import EXIT_BUSY
from tests.e2e.conftest import run_cli, search_json
from tests.e2e.library_checks import (
    append_byte,
    assert_every_file_findable,
    assert_index_equals_store,
    lock_holder_pid,
    spawn,
)
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow
WORDS = ("red", "blue", "green", "circle", "square", "stripes", "dark", "bright", "moving", "still")


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "footage"
    videos = make_library(root, n_videos=6, codecs=("h264",), seed=41, scene_seconds=(2.0, 3.0))
    home = tmp_path / "home"
    run_cli(home, "index", root, "--quiet")
    files = sorted(v.path for v in videos)
    return home, root, files


def test_search_batch_during_index_loses_nothing(library, tmp_path):
    """Trial 1 of issue 7: `search --batch` (150 queries) running while `index` re-embeds
    three changed files; afterwards a clip of a changed file must still find it. The search
    is paused (SIGSTOP) once it has loaded the index, so it always ends after the index run,
    the order that used to leave a mislabelled index behind."""
    home, _root, files = library
    changed = files[:3]
    append_byte(changed)
    queries = tmp_path / "shotlist.txt"
    queries.write_text("\n".join(f"{WORDS[i % 10]} {WORDS[(i * 7) % 10]} {i}" for i in range(150)) + "\n")
    # stderr goes to a file and the rest of stdout is read through the same buffered stream
    # as the first line: communicate() reads the raw pipe and would drop whatever readline()
    # had already buffered (a busy machine lets the search print many lines before we read).
    err_path = tmp_path / "search.stderr"
    with err_path.open("w") as err_file:
        search = spawn(home, "search", "--batch", queries, stdout=subprocess.PIPE, stderr=err_file)
        try:
            first = search.stdout.readline()  # type: ignore[union-attr]
            assert first.strip(), err_path.read_text()
            search.send_signal(signal.SIGSTOP)
            try:
                summary = run_cli(home, "index", "--json").stdout
            finally:
                search.send_signal(signal.SIGCONT)
            out = search.stdout.read()  # type: ignore[union-attr]
            search.wait(timeout=600)
        finally:
            if search.poll() is None:
                search.kill()
    err = err_path.read_text()
    assert search.returncode == 0, err
    assert '"indexed": 3' in summary, summary
    texts = queries.read_text().splitlines()
    lines = (first + out).splitlines()
    asked = [ln for ln in lines if not ln.startswith("    ")]
    assert asked == texts, [ln for ln in lines if ln not in texts and not ln.startswith("    ")][:5]
    assert not list(home.glob("*.tmp"))
    hits = search_json(home, "--clip", changed[0], "--limit", "3")
    assert str(changed[0]) in [h["path"] for h in hits], hits
    assert_index_equals_store(home)
    assert_every_file_findable(home, files)


def test_two_indexers_second_is_told_or_waits(library):
    home, _root, files = library
    append_byte(files[3:])
    first = spawn(home, "index", "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    waiter = None
    try:
        # No clock: the indexer either takes the lock or ends (pytest-timeout bounds a hang).
        while lock_holder_pid(home) != first.pid and first.poll() is None:
            time.sleep(0.05)
        assert lock_holder_pid(home) == first.pid, "the first indexer never took the writer lock"
        first.send_signal(signal.SIGSTOP)  # hold the lock for as long as the checks need
        try:
            second = run_cli(home, "index", "--quiet", check=False)
            assert second.returncode == EXIT_BUSY, second
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1, second.stderr
            assert f"reelseek-cli index (pid {first.pid})" in lines[0] and "--wait" in lines[0], lines
            # Folder changes are writes too; searching and status are not and do not wait.
            assert run_cli(home, "folders", "add", files[0].parent, check=False).returncode == EXIT_BUSY
            assert run_cli(home, "status").returncode == 0
            assert search_json(home, "red circle")
            waiter = spawn(home, "index", "--wait", "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            told = waiter.stderr.readline()  # type: ignore[union-attr]
            assert "waiting" in told and f"pid {first.pid}" in told, told
        finally:
            first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=600) == 0, first.stderr.read()  # type: ignore[union-attr]
        assert waiter.wait(timeout=600) == 0, waiter.stderr.read()  # type: ignore[union-attr]
    finally:
        for p in (first, waiter):
            if p is not None and p.poll() is None:
                p.kill()
    assert_index_equals_store(home)
    assert_every_file_findable(home, files)


def test_two_indexers_started_together_both_finish(library):
    """No pausing: two `index --wait` at once, on changed files, end in one whole library."""
    home, _root, files = library
    append_byte(files)
    procs = [spawn(home, "index", "--wait", "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in "ab"]
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()  # type: ignore[union-attr]
    assert_index_equals_store(home)
    assert_every_file_findable(home, [Path(f) for f in files])
