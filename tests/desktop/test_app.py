"""The ``reelseek`` entry point: arguments, a quick start without torch, a clean start and quit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_main_opens_the_window_and_quits_cleanly(tmp_path: Path) -> None:
    """In a child process: quitting an app's event loop inside the test process would end later tests' loops."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from reelseek.desktop import app
        from reelseek.desktop.main_window import MainWindow

        qapp = QApplication(["reelseek"])
        seen = []

        def look_and_quit():
            seen.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
            qapp.quit()

        QTimer.singleShot(500, look_and_quit)
        code = app.main(["reelseek", "--model", "reelseek-test-tiny", "--device", "cpu"])
        w = seen[0]
        print("RESULT", code, len(seen), w.library.paths.data, w.library.model_id(), w.worker.is_running())
        """
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "REELSEEK_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
    }
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    result = next(line for line in out.stdout.splitlines() if line.startswith("RESULT")).split()
    assert result[1:] == ["0", "1", str(tmp_path / "home"), "reelseek-test-tiny", "False"], out.stdout
