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
