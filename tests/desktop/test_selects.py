"""Selects in the GUI on a real library database: adding, editing, persisting and exporting.

The files are real clips with a start timecode, scanned by the real Library (no model needed);
the window runs on FakeLibrary for its search/indexing side but reads and writes collections in
that same real database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.types import Moment
from reelseek.desktop.main_window import MainWindow
from reelseek.desktop.selects_panel import SelectsPanel
from reelseek.desktop.selects_store import SelectsStore
from tests.desktop.fakes import FakeLibrary
from tests.desktop.frames import counter_video
from tests.tc_clips import write_tc_clip

UNICODE_NAME = "Plage été ☀ #2.mov"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("footage")
    counter_video(folder / "counter.mp4", frames=30, fps=10)
    write_tc_clip(folder / UNICODE_NAME, Fraction(25), "01:00:00:00", seconds=4.0)
    write_tc_clip(folder / "b-roll.mp4", Fraction(24000, 1001), None, seconds=3.0)  # untagged: 00:00:00:00
    return folder


@pytest.fixture
def home(tmp_path: Path, clips: Path) -> Path:
    """A library home whose database knows the clips (scanned, timecodes probed)."""
    footage = tmp_path / "footage"
    shutil.copytree(clips, footage)
    h = tmp_path / "home"
    with Library(h) as lib:
        report = lib.scan([footage])
        assert not report.errors, report.errors
        # What indexing records per file (scan leaves it to the indexer): start timecode and rate.
        from reelseek.core import media, store_collections

        for f in lib.files():
            info = media.probe(Path(f.path))
            store_collections.update_source_timecode(lib.store, f.id, info.source_tc)
            with lib.store.transaction() as c:
                c.execute("UPDATE files SET duration=? WHERE id=?", (info.duration, f.id))
    return h


def moments(home: Path) -> dict[str, Moment]:
    """One moment per scanned file (by name), as a search would return it."""
    with Library(home) as lib:
        files = lib.files()
    out = {}
    for f in files:
        name = Path(f.path).name
        duration = 4.0 if name == UNICODE_NAME else 3.0
        out[name] = Moment(f.path, f.id, 1.0, 2.0, 0.3, 1.5, 0.8, duration=duration, source_tc=f.source_tc)
    return out


def wait_items(qtbot: QtBot, panel: SelectsPanel, n: int) -> None:
    qtbot.waitUntil(lambda: len(panel.items()) == n, timeout=10_000)


@pytest.fixture
def panel(qtbot: QtBot, home: Path, theme_applied: None) -> Iterator[tuple[SelectsPanel, Library]]:
    lib = Library(home)
    store = SelectsStore(lib)
    p = SelectsPanel(store)
    qtbot.addWidget(p)
    p.resize(360, 520)
    p.show()
    yield p, lib
    store.shutdown()
    lib.close()


def test_panel_edits_persist_in_a_new_library(qtbot: QtBot, panel: tuple[SelectsPanel, Library], home: Path) -> None:
    p, _lib = panel
    ms = moments(home)
    p.new_collection("Day 1")
    qtbot.waitUntil(lambda: p.current_collection() == "Day 1" and p.collection_names() == ["Day 1"], timeout=10_000)
    m1, m2 = ms["counter.mp4"], ms[UNICODE_NAME]
    p.store.add_moments("Day 1", [m1, m2, Moment(m1.path, m1.file_id, 0.5, 1.0, 0.2, 0.7, duration=3.0)])
    wait_items(qtbot, p, 3)
    assert [it.name for it in p.items()] == ["counter.mp4", UNICODE_NAME, "counter.mp4"]
    # The unicode clip shows its source timecode (01:00:00:00 start, 25 fps).
    assert "01:00:01:00 – 01:00:02:00" in p.list.item(1).text()
    ids = [it.id for it in p.items()]

    # Reorder: the last item up twice (as the up button does), then drag order via reorder.
    p.list.setCurrentRow(2)
    p.up_button.click()
    qtbot.waitUntil(lambda: [it.id for it in p.items()] == [ids[0], ids[2], ids[1]], timeout=10_000)
    p.list.setCurrentRow(1)
    p.up_button.click()
    qtbot.waitUntil(lambda: [it.id for it in p.items()] == [ids[2], ids[0], ids[1]], timeout=10_000)
    assert p.current_item() is not None and p.current_item().id == ids[2], "the moved item stays selected"
    # A drag within the list (InternalMove moves the row in the list's model, as a drop does).
    assert p.list.model().moveRow(QModelIndex(), 0, QModelIndex(), 3)
    qtbot.waitUntil(lambda: [it.id for it in p.items()] == [ids[0], ids[1], ids[2]], timeout=10_000)
    assert p.list.model().moveRow(QModelIndex(), 2, QModelIndex(), 0)
    qtbot.waitUntil(lambda: [it.id for it in p.items()] == [ids[2], ids[0], ids[1]], timeout=10_000)

    # Trim the unicode clip by source timecode, annotate it.
    p.list.setCurrentRow(2)
    p.in_edit.setText("01:00:00:12")
    p.out_edit.setText("01:00:03:00")
    p.out_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: p.items()[2].in_s == pytest.approx(0.48), timeout=10_000)
    assert p.items()[2].out_s == pytest.approx(3.0)
    p.list.setCurrentRow(2)
    p.note_edit.setText("wide, sun flare — use first")
    p.note_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: p.items()[2].note == "wide, sun flare — use first", timeout=10_000)
    assert "sun flare" in p.list.item(2).text()
    # A bad timecode is a message, not a change.
    p.in_edit.setText("01:00:99:00")
    p.in_edit.editingFinished.emit()
    assert "Not a time" in p.message.text()

    # Rename the collection; remove the middle item.
    p.rename_collection("Hero shots")
    qtbot.waitUntil(lambda: p.current_collection() == "Hero shots", timeout=10_000)
    p.list.setCurrentRow(1)
    p.remove_button.click()
    wait_items(qtbot, p, 2)
    p.store.wait()

    # A fresh Library on the same database sees exactly this.
    with Library(home) as again:
        names = [c.name for c in again.collections.list()]
        items = again.collections.items("Hero shots")
    assert names == ["Hero shots"]
    assert [it.id for it in items] == [ids[2], ids[1]]
    assert (items[1].in_s, items[1].out_s, items[1].note) == (pytest.approx(0.48), 3.0, "wide, sun flare — use first")
    assert items[1].timecode_in == "01:00:00:12"

    # Delete it (no confirmation dialog in the test).
    p.delete_collection(confirm=False)
    qtbot.waitUntil(lambda: p.collection_names() == [] and p.items() == [], timeout=10_000)


@pytest.fixture
def window(qtbot: QtBot, home: Path, tmp_path: Path, light_warmup: None, theme_applied: None) -> Iterator[MainWindow]:
    lib = FakeLibrary(home)  # the same home: its collections use the real, scanned database
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    w = MainWindow(lib, qsettings=qs, player_render="callback", audio=False)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.resize(1400, 860)
    w.pages.setCurrentIndex(1)
    w.show()
    yield w
    w.shutdown()


def test_add_from_results_and_player(qtbot: QtBot, window: MainWindow, home: Path) -> None:
    ms = moments(home)
    w = window
    assert not w.selects.dock.isVisible(), "no selects yet: the dock stays out of the way"
    w.results.show_results([ms["counter.mp4"], ms[UNICODE_NAME]])
    view = w.results.view
    view.setFocus()
    view.selectAll()
    qtbot.keyClick(view, Qt.Key.Key_B)
    panel = w.selects.panel
    wait_items(qtbot, panel, 2)
    assert panel.current_collection() == "Selects"
    qtbot.waitUntil(w.selects.dock.isVisible, timeout=5000)
    assert "Added 2" in w.statusBar().currentMessage()

    # The context menu adds to a named (new) collection too.
    menu = view.context_menu(w.results.model.index(1))
    assert menu is not None
    sub = menu.findChild(type(menu), "menu_add_to_collection")
    assert sub is not None and [a.text() for a in sub.actions()] == ["Selects", "New collection…"]
    menu.findChild(type(menu.actions()[0]), "action_add_to_selects").trigger()
    wait_items(qtbot, panel, 4)
    menu.deleteLater()

    # From the player: marks set with I/O, then the button (B does the same).
    w.play_moment(ms["counter.mp4"])
    qtbot.waitUntil(lambda: w.player.clock.frames == 30 and w.player.vlc.frame_count() > 0, timeout=10_000)
    w.player.pause()
    w.player.transport.seek_frame(4)
    qtbot.keyClick(w.player, Qt.Key.Key_I)
    w.player.transport.seek_frame(24)
    qtbot.keyClick(w.player, Qt.Key.Key_O)
    w.player.selects_button.click()
    wait_items(qtbot, panel, 5)
    last = panel.items()[-1]
    assert (last.in_s, last.out_s) == (pytest.approx(0.4), pytest.approx(2.5))
    qtbot.keyClick(w.player, Qt.Key.Key_B)
    wait_items(qtbot, panel, 6)

    # Double-click (Enter) on an item plays it in the player.
    panel.list.setCurrentRow(1)
    with qtbot.waitSignal(w.player.moment_loaded) as blocker:
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    assert Path(blocker.args[0].path).name == UNICODE_NAME


def _read_otio(path: Path, fmt: str):  # type: ignore[no-untyped-def]
    import opentimelineio as otio

    # An EDL has one rate (the timeline's: 25 here, the first clip's); OTIO's reader must be told.
    kw = {"rate": 25.0, "ignore_timecode_mismatch": True} if fmt == "edl" else {}
    return otio.adapters.read_from_file(str(path), **kw)


@pytest.mark.parametrize("fmt", ["otio", "edl", "fcp7"])
def test_export_from_the_selects_menu_reads_back(
    qtbot: QtBot, window: MainWindow, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    ms = moments(home)
    w = window
    panel = w.selects.panel
    w.selects.store.add_moments("Reel A", [ms[UNICODE_NAME], ms["b-roll.mp4"]])
    qtbot.waitUntil(lambda: panel.current_collection() == "Reel A" and len(panel.items()) == 2, timeout=10_000)
    panel.handles_spin.setValue(5)
    ext = {"otio": ".otio", "edl": ".edl", "fcp7": ".xml"}[fmt]
    target = tmp_path / "out" / f"reel a{ext}"
    target.parent.mkdir()
    asked: list[str] = []

    def save_name(_parent: object, _title: str, suggested: str, _filter: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(target), _filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    action = panel.export_menu.findChild(type(panel.export_menu.actions()[0]), f"export_{fmt}")
    done: list[tuple[str, int]] = []
    failures: list[str] = []
    w.selects.exporter.finished.connect(lambda path, n: done.append((path, n)))
    w.selects.exporter.failed.connect(failures.append)
    action.trigger()
    qtbot.waitUntil(lambda: bool(done or failures), timeout=30_000)
    assert not failures
    assert asked and asked[0].endswith("Reel A" + ext)
    written = Path(done[0][0])
    assert written == target and written.exists() and done[0][1] == 2
    assert "Exported 2 clips" in w.statusBar().currentMessage()
    timeline = _read_otio(written, fmt)
    clips = list(timeline.find_clips())
    assert len(clips) == 2
    first = clips[0].source_range
    # The unicode clip: 1.0-2.0 s at 25 fps from 01:00:00:00, 5 frames of handles each side.
    assert first.start_time.rate == pytest.approx(25)
    assert round(first.start_time.value) == 90_000 + 25 - 5
    assert round(first.duration.value) == 25 + 10
    if fmt != "edl":  # (an EDL has one rate for every clip)
        second = clips[1].source_range  # b-roll.mp4 at 23.976 from 00:00:00:00, 5 frames of handles
        assert second.start_time.rate == pytest.approx(24000 / 1001, abs=0.01)
        assert round(second.start_time.value) == 24 - 5 and round(second.duration.value) == 24 + 10
    if fmt == "otio":
        assert UNICODE_NAME in clips[0].name


def test_export_selected_results_and_a_readable_error(
    qtbot: QtBot, window: MainWindow, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ms = moments(home)
    w = window
    w.results.show_results([ms["b-roll.mp4"], ms[UNICODE_NAME]])
    w.results.view.selectAll()
    menu = w.results.view.context_menu(w.results.model.index(0))
    assert menu is not None
    export = menu.findChild(type(menu), "menu_export_selection")
    assert export is not None and "2 moments" in export.title()
    target = tmp_path / "results.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(target), ""))
    with qtbot.waitSignal(w.selects.exporter.finished, timeout=30_000):
        export.findChild(type(export.actions()[0]), "export_csv").trigger()
    text = target.read_text(encoding="utf-8")
    assert "b-roll.mp4" in text and UNICODE_NAME in text and "01:00:01:00" in text
    # A folder that does not exist: a message the editor can act on, not a traceback.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(tmp_path / "gone" / "x.edl"), ""))
    with qtbot.waitSignal(w.selects.exporter.failed, timeout=30_000) as blocker:
        export.findChild(type(export.actions()[0]), "export_edl").trigger()
    assert blocker.args[0].startswith("Export failed:") and "x.edl" in blocker.args[0]
    qtbot.waitUntil(lambda: "Export failed" in w.notice.text(), timeout=5000)
    menu.deleteLater()


def test_keyboard_flow_search_results_player(qtbot: QtBot, window: MainWindow, home: Path) -> None:
    ms = moments(home)
    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    field, view = w.search_bar.field, w.results.view
    w.results.show_results([ms["counter.mp4"], ms[UNICODE_NAME]])
    view.clearSelection()
    view.setCurrentIndex(w.results.model.index(-1))
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=3000)
    # Down leaves the search box for the first card; the focus ring is painted on it.
    before = view.viewport().grab().toImage()
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert view.hasFocus() and view.currentIndex().row() == 0
    assert view.viewport().grab().toImage() != before
    # Editor keys drive the player and never reach the search box.
    calls: list[str] = []
    w.player.shuttle_forward = lambda: calls.append("L")  # type: ignore[method-assign]
    w.player.mark_in = lambda: calls.append("I")  # type: ignore[method-assign]
    for key in (Qt.Key.Key_L, Qt.Key.Key_I, Qt.Key.Key_J, Qt.Key.Key_K):
        qtbot.keyClick(view, key)
    assert calls == ["L", "I"] and field.text() == ""
    # Enter plays the current card.
    qtbot.keyClick(view, Qt.Key.Key_Right)
    with qtbot.waitSignal(w.player.moment_loaded) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert Path(blocker.args[0].path).name == UNICODE_NAME
    # Escape from the player and from the results returns to the search box.
    w.player.setFocus()
    qtbot.keyClick(w.player, Qt.Key.Key_Escape)
    assert field.hasFocus()
    qtbot.keyClick(field, Qt.Key.Key_Tab)
    assert view.hasFocus()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert field.hasFocus()
