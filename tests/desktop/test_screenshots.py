"""Screenshots of the main window for the README: empty library, indexing, results with a moment playing.

Always runs (so the states keep rendering); writes the PNGs into ``$REELSEEK_SCREENSHOTS`` when set,
e.g. ``REELSEEK_SCREENSHOTS=docs/screenshots pytest tests/desktop/test_screenshots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from reelseek.core.types import IndexProgress
from reelseek.desktop.main_window import MainWindow
from tests.desktop.fakes import Recorder
from tests.desktop.gui_helpers import generate_footage, open_window, search, wait_for_report
from tests.desktop.test_results import double_click

pytestmark = pytest.mark.slow


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    target = os.environ.get("REELSEEK_SCREENSHOTS")
    folder = Path(target) if target else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(window: MainWindow, path: Path) -> QImage:
    image = window.grab().toImage()
    assert image.save(str(path)), f"could not write {path}"
    return image


class _GrabOnProgress(Recorder):
    """Takes the 'indexing' screenshot from inside the progress slot, while a file is in flight."""

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__()
        self.window, self.path, self.taken = window, path, False

    def record(self, *args: object) -> None:
        super().record(*args)
        p = args[0]
        if (
            not self.taken
            and isinstance(p, IndexProgress)
            and p.phase == "indexing"
            and 2 <= p.files_done < p.files_total
        ):
            self.window.index_status.show_progress(p)  # this signal's own update, before the grab
            # The side panel refreshes asynchronously; read it now so the picture is consistent.
            lib = self.window.library
            self.window._on_library_ctl_refreshed(lib.folders(), lib.status())
            save(self.window, self.path)
            self.taken = True


def test_main_window_screenshots(qtbot: QtBot, tmp_path: Path, out_dir: Path, windows: list) -> None:
    footage = generate_footage(tmp_path / "Footage" / "Day 1 - Studio", n_videos=6)
    window = open_window(qtbot, tmp_path / "home", windows)
    window.library.settings.sample_every = 0.25  # more frames per file: indexing lasts long enough to see
    window.resize(1280, 800)

    first = save(window, out_dir / "01-empty-library.png")
    assert first.width() == 1280

    grab = _GrabOnProgress(window, out_dir / "02-indexing.png")
    window.worker.progress.connect(grab.record)
    finished = Recorder()
    window.worker.finished.connect(finished.record)
    window.add_folders([footage[0].path.parent])
    wait_for_report(qtbot, finished, lambda r: r.indexed == len(footage))
    assert grab.taken, "no progress snapshot with a file in flight"

    scene = footage[3].scenes[1]
    moments = search(qtbot, window, scene.caption())
    model = window.results.model
    visible = moments[: min(len(moments), 6)]
    qtbot.waitUntil(lambda: all(model.thumbnail(m) is not None for m in visible), timeout=30_000)
    view = window.results.view
    double_click(qtbot, view.viewport(), view.visualRect(model.index(0)).center())
    player = window.player
    target = moments[0].start + 0.6 * (moments[0].end - moments[0].start)
    qtbot.waitUntil(lambda: player.vlc.frame_count() > 0 and player.vlc.time() >= target, timeout=15_000)
    player.pause()
    qtbot.wait(150)
    save(window, out_dir / "03-results-playing.png")
    for name in ("01-empty-library.png", "02-indexing.png", "03-results-playing.png"):
        assert (out_dir / name).stat().st_size > 10_000
