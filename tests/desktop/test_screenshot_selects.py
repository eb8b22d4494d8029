"""Screenshot of the hand-off to the edit: results, the player with in/out marks, the Selects dock.

Writes ``04-selects-marks.png`` into ``$REELSEEK_SCREENSHOTS`` when set (else a temporary folder):
``REELSEEK_SCREENSHOTS=docs/screenshots pytest tests/desktop/test_screenshot_selects.py``.
The footage is generated, scanned by the real Library and read by the real player; search itself
is not needed for this picture, so the window runs on FakeLibrary over that same database.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from reelseek.core import media, store_collections
from reelseek.core.library import Library
from reelseek.core.types import Moment
from reelseek.desktop.main_window import MainWindow
from tests.desktop.fakes import FakeLibrary
from tests.desktop.gui_helpers import generate_footage


def test_selects_and_marks_screenshot(qtbot: QtBot, tmp_path: Path, light_warmup: None, theme_applied: None) -> None:
    out = Path(os.environ.get("REELSEEK_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    videos = generate_footage(tmp_path / "Footage" / "Day 1 - Studio", n_videos=4)
    home = tmp_path / "home"
    with Library(home) as lib:
        lib.scan([videos[0].path.parent])
        for f in lib.files():
            info = media.probe(Path(f.path))
            store_collections.update_source_timecode(lib.store, f.id, info.source_tc)
            with lib.store.transaction() as c:
                c.execute("UPDATE files SET duration=? WHERE id=?", (info.duration, f.id))
        files = {Path(f.path).name: f for f in lib.files()}

    moments = []
    for v in videos:
        f = files[v.path.name]
        for i, s in enumerate(v.scenes):
            conf = 0.92 - 0.11 * len(moments)
            mid = (s.start + s.end) / 2
            score = 0.31 - 0.01 * i
            m = Moment(str(v.path), f.id, s.start + 0.2, s.end - 0.2, score, mid, max(0.2, conf), duration=v.duration)
            moments.append(dataclasses.replace(m, source_tc=f.source_tc))
    moments = moments[:6]
    fake = FakeLibrary(home, n_files=len(videos))
    fake.folder_list = [str(videos[0].path.parent)]
    fake.thumbnail = lambda m, width=320: media.thumbnail_jpeg(Path(m.path), m.best_time, width=width)  # type: ignore[method-assign]
    window = MainWindow(
        fake,  # type: ignore[arg-type]
        qsettings=QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat),
        player_render="callback",
        audio=False,
    )
    qtbot.addWidget(window)
    try:
        window.resize(1600, 880)
        window.pages.setCurrentIndex(1)
        window.show()
        qtbot.waitExposed(window)
        window.splitter.setSizes([200, 520, 520])  # two columns of cards beside the dock
        window.search_bar.field.setText("a red circle on grass")
        window.results.show_results(moments)
        model = window.results.model
        qtbot.waitUntil(lambda: all(model.thumbnail(m) is not None for m in moments), timeout=30_000)

        store, panel = window.selects.store, window.selects.panel
        store.create("Day 1 – hero shots")
        store.add_moments("Day 1 – hero shots", moments[:3], "a red circle on grass")
        qtbot.waitUntil(lambda: len(panel.items()) == 3, timeout=10_000)
        store.annotate("Day 1 – hero shots", panel.items()[0].id, "opening shot, hold 2 s")
        qtbot.waitUntil(lambda: panel.items()[0].note != "", timeout=10_000)

        player = window.player
        player.play_moment(moments[1])
        qtbot.waitUntil(lambda: player.vlc.frame_count() > 0 and player.clock.frames > 0, timeout=15_000)
        player.pause()
        a, b = player.mark_frames()
        player.transport.seek_frame(a + 4)
        qtbot.keyClick(player, Qt.Key.Key_I)
        player.transport.seek_frame(b - 3)
        qtbot.keyClick(player, Qt.Key.Key_O)
        player.transport.seek_frame((a + b) // 2)
        window.results.view.setCurrentIndex(model.index(1))
        panel.list.setCurrentRow(0)
        qtbot.wait(600)  # the paused seek's picture
        assert window.selects.dock.isVisible()
        assert player.timeline.marks() is not None
        image = window.grab().toImage()
        path = out / "04-selects-marks.png"
        assert image.save(str(path))
        assert path.stat().st_size > 10_000
    finally:
        window.shutdown()
