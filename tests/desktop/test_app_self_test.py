"""`reelseek --smoke` (what packaging/smoke.py runs in the built app) and the player's start error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "user")}
    env.pop("REELSEEK_SMOKE", None)
    env.update(extra)
    (tmp_path / "user").mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "reelseek.desktop.app", "--home", str(tmp_path / "home"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize(("args", "env"), [(["--smoke"], {}), ([], {"REELSEEK_SMOKE": "1"})])
def test_smoke_opens_the_window_and_quits_cleanly(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    out = _run(tmp_path, args, **env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("reelseek smoke:")]
    assert lines[0].startswith("reelseek smoke: window shown (") and lines[0].endswith(", offscreen)"), out.stdout
    assert lines[1].startswith("reelseek smoke: libvlc ") and "libvlc" in lines[1][len("reelseek smoke: ") :]
    assert (tmp_path / "home").is_dir()  # the library really opened


def test_missing_libvlc_gives_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    out = _run(tmp_path, ["--smoke"], PYTHON_VLC_LIB_PATH=str(tmp_path / "no" / "libvlc.so.5"))
    assert out.returncode == 1
    assert "The video player (libvlc) could not start: libvlc could not be loaded" in out.stderr
    assert "apt-get install libvlc5 vlc-plugin-base" in out.stderr
    assert "Traceback" not in out.stderr and "window shown" not in out.stdout


def test_the_bundle_names_its_own_plugins_folder(tmp_path: Path) -> None:
    from reelseek.desktop.self_test import player_unavailable_message

    os.environ["REELSEEK_BUNDLED_VLC"] = "/app/_internal/vlc/plugins"
    try:
        text = player_unavailable_message(RuntimeError("libvlc could not start"))
    finally:
        del os.environ["REELSEEK_BUNDLED_VLC"]
    assert "libvlc could not start" in text and "/app/_internal/vlc/plugins" in text and "Reinstall" in text
