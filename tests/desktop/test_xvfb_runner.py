"""Runs the xvfb-marked tests under a private Xvfb, in a child pytest with Qt's xcb platform.

One process can use only one Qt platform, and this one is offscreen; so the native-embedding
tests get their own process and X server. Skipped where Xvfb is not installed.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Start ``Xvfb`` on a free display number (it picks one and writes it to a pipe)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    try:
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], 20)
            if not ready:
                raise RuntimeError("Xvfb did not report a display within 20 s")
            chunk = os.read(read_fd, 16)
            if not chunk:
                raise RuntimeError(f"Xvfb exited early (code {proc.poll()})")
            number += chunk
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(read_fd)
    return proc, f":{number.decode().strip()}"


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (apt-get install xvfb)")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 embedding is tested on Linux")
def test_native_embedding_tests_pass_under_xvfb(tmp_path: Path) -> None:
    xvfb, display = start_xvfb()
    try:
        env = {**os.environ, "DISPLAY": display, "REELSEEK_QT_XCB": "1", "PYTHONPATH": str(REPO)}
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-m",
                "xvfb",
                "-p",
                "no:cacheprovider",
                "tests/desktop/test_player_native.py",
                "--basetemp",
                str(tmp_path / "child"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert " passed" in out and "skipped" not in out, out
