"""The real `reelseek-cli index` in an 80-column terminal: the progress bar redraws one line in place."""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from reelseek.core.cli_progress import cells
from tests.e2e.conftest import cli_env, cli_path
from tests.synth.videos import make_library

pytestmark = pytest.mark.slow

LONG = "A003_C012_0417XY a very long descriptive clip name straight from the camera card.mp4"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminal")
@pytest.mark.parametrize("columns", [80, 50])
def test_index_progress_fits_a_real_terminal(tmp_path: Path, columns: int) -> None:
    videos = make_library(tmp_path / "footage", n_videos=3, codecs=("h264",), seed=5)
    videos[1].path.rename(videos[1].path.with_name(LONG))
    master, slave = os.openpty()
    # The terminal's size, as a terminal emulator sets it; the CLI reads it from stderr's tty.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = cli_env(tmp_path / "home")
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [cli_path(), "index", str(tmp_path / "footage"), "--json"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        text=True,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=600)
    reader.join(timeout=30)
    os.close(master)
    assert proc.returncode == 0, out
    assert json.loads(out)["indexed"] == 3
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")  # the tty adds \r to \n
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 2, repr(text)  # one line of redraws, one newline at the end
    frames = [f for f in lines[0].split("\r") if f]
    assert len(frames) >= 2, repr(text)  # at least scanning and finished
    assert all(cells(f) <= columns - 1 for f in frames), [f for f in frames if cells(f) > columns - 1]
    assert "finished" in frames[-1] and "3/3 files" in frames[-1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminal")
def test_search_results_fit_a_narrow_terminal_and_keep_whole_paths(tmp_path: Path) -> None:
    """In a terminal too narrow for a result's line the path goes on a line of its own, whole;
    piped, the same results keep one line each (scripts read them)."""
    columns = 72
    videos = make_library(tmp_path / "footage", n_videos=2, codecs=("h264",), seed=7)
    long_path = videos[0].path.rename(videos[0].path.with_name(LONG))
    env = cli_env(tmp_path / "home")
    env.pop("COLUMNS", None)
    subprocess.run([cli_path(), "index", str(tmp_path / "footage"), "-q"], env=env, check=True, timeout=600)
    query = [cli_path(), "search", videos[0].scenes[0].caption(), "--closest", "--limit", "4"]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(query, stdout=slave, stderr=subprocess.PIPE, env=env, text=True)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the CLI exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, err = proc.communicate(timeout=300)
    os.close(master)
    assert proc.returncode == 0, err
    lines = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").splitlines()
    results = [i for i, ln in enumerate(lines) if ln[:5].strip().rstrip(".").isdigit()]
    assert results, lines
    names = {v.path.name for v in videos} | {long_path.name}
    for i in results:
        assert cells(lines[i]) <= columns, lines[i]  # the result's own line fits
        if not any(n in lines[i] for n in names):  # (a short path may fit on the result's line)
            assert Path(lines[i + 1].strip()).name in names, lines[i : i + 2]
    assert any(lines[i + 1].strip() == str(long_path) for i in results), "the long name is shown whole"
    piped = subprocess.run(query, env=env, capture_output=True, text=True, timeout=300)
    rows = [ln for ln in piped.stdout.splitlines() if ln[:5].strip().rstrip(".").isdigit()]
    assert len(rows) == len(results) and any(str(long_path) in r for r in rows), piped.stdout
