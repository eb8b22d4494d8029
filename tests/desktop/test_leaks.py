"""The leak check itself: a test that leaves a QThread, a QTimer or a window behind fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.desktop.leaks import find_leaks, top_level_widgets

REPO = Path(__file__).resolve().parents[2]


def test_find_leaks_reports_and_cleans_up(qtbot: QtBot) -> None:
    before = top_level_widgets()
    timer = QTimer()
    timer.setObjectName("poller")
    timer.start(1000)
    thread = QThread()
    thread.setObjectName("stray")
    thread.start()
    window = QWidget()
    window.setObjectName("forgotten")
    window.show()
    leaks = find_leaks(before)
    assert any("QTimer 'poller'" in line for line in leaks)
    assert any("QThread 'stray'" in line for line in leaks)
    assert any("QWidget 'forgotten'" in line for line in leaks)
    assert not timer.isActive() and not thread.isRunning()
    assert find_leaks(before) == [], "everything was cleaned up"


def test_leaky_tests_fail_in_a_real_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nqt_api = pyside6\n")
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import os
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            from tests.desktop.leaks import install, qt_leak_check  # noqa: F401
            install()
            """
        )
    )
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent(
            """
            from PySide6.QtCore import QThread, QTimer
            from PySide6.QtWidgets import QWidget

            KEEP = []

            def test_leaves_thread(qtbot):
                t = QThread(); t.start(); KEEP.append(t)

            def test_leaves_timer(qtbot):
                t = QTimer(); t.start(50); KEEP.append(t)

            def test_leaves_window(qtbot):
                w = QWidget(); w.show(); KEEP.append(w)

            def test_clean(qtbot):
                w = QWidget(); qtbot.addWidget(w); w.show()
                t = QTimer(w); t.start(10)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sample.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    # pytest counts a test whose body passed and whose teardown failed as "passed" plus an error.
    assert "3 errors" in out, out
    for name in ("test_leaves_thread", "test_leaves_timer", "test_leaves_window"):
        assert f"ERROR at teardown of {name}" in out, out
    assert "test_clean" not in out.split("short test summary info")[1], out
    assert out.count("ERROR test_sample.py::") == 3, out
