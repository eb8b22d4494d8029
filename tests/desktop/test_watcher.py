"""FolderWatcher: debounced file-system events, new sub-folders, periodic rescans."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from reelseek.desktop.watcher import FolderWatcher
from tests.desktop.fakes import Recorder


def test_a_burst_of_changes_gives_one_signal_for_the_root(qtbot: QtBot, tmp_path: Path) -> None:
    root = tmp_path / "footage"
    (root / "day1").mkdir(parents=True)
    w = FolderWatcher(rescan_interval_s=3600, debounce_ms=400)
    rec = Recorder()
    w.folders_changed.connect(rec.record)
    w.set_folders([str(root)])
    assert str(root / "day1") in w.watched_directories(), "sub-folders are watched too"
    with qtbot.waitSignal(w.folders_changed, timeout=3000) as blocker:
        for i in range(5):
            (root / "day1" / f"clip{i}.mp4").write_bytes(b"x")
    assert blocker.args == [[str(root)]]
    qtbot.wait(600)
    assert len(rec.calls) == 1, "five writes inside the debounce window are one change"
    w.stop()


def test_new_subfolders_get_watched(qtbot: QtBot, tmp_path: Path) -> None:
    root = tmp_path / "footage"
    root.mkdir()
    w = FolderWatcher(rescan_interval_s=3600, debounce_ms=50)
    w.set_folders([str(root)])
    with qtbot.waitSignal(w.folders_changed, timeout=3000):
        (root / "new").mkdir()
    assert str(root / "new") in w.watched_directories()
    with qtbot.waitSignal(w.folders_changed, timeout=3000):
        (root / "new" / "a.mov").write_bytes(b"x")
    w.stop()


def test_periodic_rescan_covers_missing_roots(qtbot: QtBot, tmp_path: Path) -> None:
    gone = tmp_path / "unplugged-drive"
    w = FolderWatcher(rescan_interval_s=0.05, debounce_ms=50)
    w.set_folders([str(gone)])
    assert w.watched_directories() == []
    with qtbot.waitSignal(w.folders_changed, timeout=3000) as blocker:
        pass
    assert blocker.args == [[str(gone)]]
    gone.mkdir()
    qtbot.waitUntil(lambda: str(gone) in w.watched_directories(), timeout=3000)
    w.set_folders([])
    assert w.watched_directories() == []
    w.stop()
