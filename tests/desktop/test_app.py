"""The ``reelseek`` entry point: arguments, a quick start without torch, a clean start and quit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from reelseek.desktop import app as app_module
from reelseek.desktop.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


def test_version_and_help_are_instant() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "reelseek.desktop.app", "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0 and out.stdout.startswith("reelseek ")


def test_the_window_modules_do_not_import_torch() -> None:
    """First paint must not wait for torch: it is imported by the worker when the model loads."""
    code = (
        "import sys, reelseek.desktop.main_window, reelseek.desktop.app; "
        "heavy = [m for m in ('torch', 'open_clip', 'av', 'usearch') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=REPO,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_main_opens_the_window_and_quits_cleanly(qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[MainWindow] = []

    def look_and_quit() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(windows)
        QApplication.instance().quit()

    QTimer.singleShot(300, look_and_quit)
    code = app_module.main(["reelseek", "--model", "reelseek-test-tiny", "--device", "cpu"])
    assert code == 0
    assert len(seen) == 1
    window = seen[0]
    assert window.library.paths.data == home, "REELSEEK_HOME decides where the library lives"
    assert window.library.model_id() == "reelseek-test-tiny"
    assert not window.worker.is_running(), "quitting stopped the indexing thread"
