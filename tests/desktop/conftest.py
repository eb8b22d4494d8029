"""pytest-qt setup for the desktop tests: offscreen Qt, leak checks, isolated settings and data.

The native-embedding (xcb) tests need a real X server and a different Qt platform, which a
process can only choose once. So this run is offscreen, and ``test_xvfb_runner.py`` starts
``Xvfb`` plus a child pytest with ``REELSEEK_QT_XCB=1`` that runs only the ``xvfb``-marked tests.
"""

from __future__ import annotations

import os

XCB_RUN = os.environ.get("REELSEEK_QT_XCB") == "1"
# Must happen before anything imports Qt.
os.environ["QT_QPA_PLATFORM"] = "xcb" if XCB_RUN else "offscreen"
os.environ.setdefault("QT_QUICK_BACKEND", "software")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402

from tests.desktop import leaks  # noqa: E402

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from reelseek.core.library import Library
    from reelseek.desktop.main_window import MainWindow
    from reelseek.desktop.search_bar import SearchBarWidget
from tests.desktop.leaks import qt_leak_check  # noqa: E402,F401 - autouse fixture

leaks.install()


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["reelseek-tests"]


@pytest.fixture(scope="session", autouse=True)
def _isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """QSettings() in the code under test writes into a temporary folder, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("reelseek-tests")
    QCoreApplication.setApplicationName("reelseek-tests")
    yield


@pytest.fixture(autouse=True)
def _platform_selection(request: pytest.FixtureRequest) -> None:
    """xvfb-marked tests run only in the xcb child run; everything else only offscreen."""
    wants_x = request.node.get_closest_marker("xvfb") is not None
    if wants_x and not XCB_RUN:
        pytest.skip("runs under Xvfb in a separate process (see test_xvfb_runner.py)")
    if XCB_RUN and not wants_x:
        pytest.skip("offscreen test; this process runs only the xvfb-marked tests")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh REELSEEK_HOME for code that reads the environment."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("REELSEEK_HOME", str(h))
    return h


@pytest.fixture
def light_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests on FakeLibrary: loading its "model" must not import torch (seconds, for nothing)."""
    from reelseek.desktop import warmup

    monkeypatch.setattr(warmup, "_import_heavy_modules", lambda: None)


@pytest.fixture(scope="session")
def theme_applied(qapp: object) -> None:
    """The real look (screenshots and paint tests should see what users see)."""
    from PySide6.QtWidgets import QApplication

    from reelseek.desktop import theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app)


@pytest.fixture
def windows(qtbot: QtBot, theme_applied: None) -> Iterator[list[tuple[MainWindow, Library]]]:
    """Main windows a test opened, each with its library: shut down and closed after the test."""
    opened: list[tuple[MainWindow, Library]] = []
    yield opened
    for window, library in opened:
        window.shutdown()
        library.close()


@pytest.fixture
def bar(qtbot: QtBot) -> SearchBarWidget:
    """A shown search bar, on its own."""
    from reelseek.desktop.search_bar import SearchBarWidget

    b = SearchBarWidget()
    qtbot.addWidget(b)
    b.show()
    return b
