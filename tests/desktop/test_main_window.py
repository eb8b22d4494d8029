"""MainWindow wiring on a FakeLibrary: pages, drops, folders, errors, pause, no-model and no-match states."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reelseek.desktop.main_window import MainWindow
from reelseek.desktop.status_widget import ErrorListDialog
from tests.desktop.fakes import FakeLibrary, moment
from tests.desktop.test_search_bar import drop_event

MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path: Path, light_warmup: None, theme_applied: None) -> Iterator[MakeWindow]:
    windows: list[MainWindow] = []

    def make(lib: FakeLibrary | None = None, **kw: object) -> MainWindow:
        lib = lib or FakeLibrary(tmp_path / "home")
        qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
        w = MainWindow(lib, qsettings=qs, player_render="callback", audio=False, **kw)  # type: ignore[arg-type]
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()


def test_first_run_shows_the_welcome_view(qtbot: QtBot, make_window: MakeWindow) -> None:
    w = make_window()
    assert w.pages.currentWidget() is w.welcome
    assert w.results.state() == "empty"
    w.welcome.open_button.click()
    assert w.pages.currentIndex() == 1, "the library is usable before any setup"


def test_adding_a_folder_lists_it_and_indexes(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    footage = tmp_path / "footage"
    footage.mkdir()
    lib = FakeLibrary(tmp_path / "home", n_files=3)
    w = make_window(lib)
    with qtbot.waitSignal(w.worker.finished, timeout=5000):
        w.add_folders([footage])
    qtbot.waitUntil(lambda: w.folders.folder_paths() == [str(footage)], timeout=3000)
    assert lib.index_calls[-1] == [str(footage)]
    assert w.pages.currentIndex() == 1
    assert str(footage) in w.watcher.roots()
    assert w.search_bar.folder_combo.count() == 2


def test_adding_a_missing_folder_gives_a_message(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    w = make_window()
    w.add_folders([tmp_path / "nope"])
    qtbot.waitUntil(lambda: "folder not found" in w.notice.text(), timeout=3000)
    assert w.notice.level() == "error"


def test_dropping_a_non_media_file_gives_a_message(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    w = make_window()
    doc = tmp_path / "script.pdf"
    doc.write_bytes(b"%PDF-1.4")
    w.dropEvent(drop_event([doc]))
    assert "script.pdf" in w.notice.text()
    assert w.notice.level() == "warning"
    assert w.search_bar.chips() == []
    w.notice.dismiss()
    assert w.notice.text() == ""


def test_dropping_a_folder_adds_it(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    footage = tmp_path / "dropped"
    footage.mkdir()
    lib = FakeLibrary(tmp_path / "home")
    w = make_window(lib)
    w.dropEvent(drop_event([footage]))
    qtbot.waitUntil(lambda: w.folders.folder_paths() == [str(footage)], timeout=3000)


def test_errors_are_listed_with_reasons(qtbot: QtBot, make_window: MakeWindow) -> None:
    lib = FakeLibrary(Path("/tmp"), n_files=1)
    lib.folder_list = ["/tmp"]
    lib.errors_to_report = [("/footage/bad.mp4", "moov atom not found")]
    w = make_window(lib)
    qtbot.waitUntil(lambda: w.index_status.errors_button.isVisible(), timeout=5000)
    assert w.index_status.errors_button.text() == "1 error"
    w.index_status.errors_button.click()
    dialog = w.findChild(ErrorListDialog)
    assert dialog is not None
    assert dialog.table.item(0, 0).text() == "bad.mp4"
    assert dialog.table.item(0, 1).text() == "moov atom not found"
    dialog.close()


def test_pause_button_pauses_the_worker(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    lib = FakeLibrary(tmp_path / "home", n_files=500, batch_s=0.01)
    lib.folder_list = [str(tmp_path)]
    w = make_window(lib)
    qtbot.waitUntil(lambda: w.index_status.pause_button.isVisible() and lib.batches_done > 0, timeout=5000)
    w.index_status.pause_button.click()
    assert w.worker.is_paused()
    qtbot.wait(100)
    frozen = lib.batches_done
    qtbot.wait(200)
    assert lib.batches_done == frozen
    assert "Paused" in w.index_status.text.text()
    w.index_status.pause_button.click()
    qtbot.waitUntil(lambda: lib.batches_done > frozen, timeout=3000)


def test_without_a_model_search_explains(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    lib = FakeLibrary(tmp_path / "home", has_model=False)
    w = make_window(lib)
    w.pages.setCurrentIndex(1)
    w.search_bar.field.setText("red door")
    w.search_bar.search_now()
    assert w.results.state() == "no_model"
    assert lib.search_calls == []


def test_no_good_match_is_a_state_not_noise(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    lib = FakeLibrary(tmp_path / "home")
    lib.moments = [moment("noise.mp4", 0, 1)]
    lib.no_good_match = True
    w = make_window(lib)
    w.search_bar.field.setText("unicorn")
    w.search_bar.search_now()
    qtbot.waitUntil(lambda: w.results.state() == "no_match", timeout=3000)
    assert "No good match" in w.results.placeholder_text()
    assert w.results.model.rowCount() == 0
    w.results.button.click()
    assert w.results.state() == "results" and w.results.model.rowCount() == 1


def test_stale_search_results_are_dropped(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    lib = FakeLibrary(tmp_path / "home")
    lib.search_delay = 0.2
    lib.moments = [moment("x.mp4")]
    w = make_window(lib)
    w.search_bar.field.setText("first")
    w.search_bar.search_now()
    w.search_bar.field.setText("second")
    w.search_bar.search_now()
    qtbot.waitUntil(lambda: w.results.state() == "results", timeout=3000)
    qtbot.wait(300)
    assert w.search.last_query().text == "second"
    assert [q.text for q in lib.search_calls][-1] == "second"


def test_geometry_is_remembered(qtbot: QtBot, make_window: MakeWindow) -> None:
    w = make_window()
    w.resize(795, 700)  # the offscreen screen is 800x800; restoreGeometry keeps windows on it
    w.close()
    w2 = make_window()
    assert (w2.width(), w2.height()) == (795, 700)


def test_player_keys_work_window_wide_but_not_while_typing(qtbot: QtBot, make_window: MakeWindow) -> None:
    w = make_window()
    w.pages.setCurrentIndex(1)
    calls: list[str] = []
    w.player.shuttle_forward = lambda: calls.append("L")  # type: ignore[method-assign]
    w.activateWindow()
    # Window shortcuts fire only in the active window; offscreen activation is asynchronous.
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    w.search_bar.field.setFocus()
    qtbot.keyClicks(w.search_bar.field, "lol")
    assert w.search_bar.field.text() == "lol"
    assert calls == [], "typing an l in the search field is text, not a shuttle"
    w.results.show_results([moment("a.mp4")])
    w.results.view.setFocus()
    qtbot.keyClick(w.results.view, Qt.Key.Key_L)
    assert calls == ["L"], "L shuttles while the results grid has focus"


def test_removing_a_folder_stops_watching_it(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    keep, drop = tmp_path / "keep", tmp_path / "drop"
    keep.mkdir()
    drop.mkdir()
    lib = FakeLibrary(tmp_path / "home", n_files=2)
    lib.folder_list = [str(keep), str(drop)]
    w = make_window(lib)
    qtbot.waitUntil(lambda: len(w.folders.folder_paths()) == 2, timeout=3000)
    w.folders.list.setCurrentRow(1)
    w.folders.remove_button.click()
    qtbot.waitUntil(lambda: w.folders.folder_paths() == [str(keep)], timeout=3000)
    assert lib.folder_list == [str(keep)]
    assert w.watcher.roots() == [str(keep)]
