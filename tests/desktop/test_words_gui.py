"""Words in the GUI: source badges and matched words on result cards; the transcript panel follows and seeks."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from reelseek.core.store_words import LineHit
from reelseek.desktop.results.model import ResultsModel
from reelseek.desktop.results.source_badges import BADGE_COLOURS, badge_labels, caption
from reelseek.desktop.results.view import ResultsView
from reelseek.desktop.transcript_panel import TranscriptPanelWidget
from tests.desktop.fakes import FakeLibrary, moment

LINES = [
    LineHit(1, 1, "subtitle", "en", 1.0, 2.0, "good morning", (), 0.0),
    LineHit(2, 1, "said", "en", 4.0, 5.5, "we are out of time", ((4.0, 4.3, "we"),), 0.0, 0.9),
    LineHit(3, 1, "written", None, 9.0, 12.0, "SC 12 TK 3", (), 0.0, 0.95),
]


def _click_item(qtbot: QtBot, panel: TranscriptPanelWidget, row: int) -> None:
    rect = panel.list.visualItemRect(panel.list.item(row))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_transcript_follows_the_playhead_and_a_click_seeks(qtbot: QtBot) -> None:
    panel = TranscriptPanelWidget()
    qtbot.addWidget(panel)
    playhead = [0.0]
    panel.follow(lambda: playhead[0])
    panel.resize(320, 240)
    panel.show()
    panel.set_lines(LINES)
    assert panel.list.count() == 3 and not panel.empty.isVisible()
    playhead[0] = 4.7
    qtbot.waitUntil(lambda: panel.list.currentRow() == 1, timeout=10_000)  # polled from the player
    assert "[said]  we are out of time" in panel.current_text()
    panel.set_position(10.0)
    assert panel.list.currentRow() == 2
    with qtbot.waitSignal(panel.seek_requested, timeout=10_000) as sig:
        _click_item(qtbot, panel, 0)
    assert sig.args == [1.0]
    panel.set_lines([])
    assert panel.list.count() == 0 and panel.empty.isVisibleTo(panel)
    panel.shutdown()


def test_transcript_reads_a_files_lines_from_the_real_store(qtbot: QtBot, tmp_path: Path) -> None:
    from reelseek.core.library import Library
    from reelseek.core.store_words import WORDS_DONE, WordsStore
    from reelseek.core.words.types import WordLine

    lib = Library(tmp_path / "home")
    fid = lib.store.upsert_file(tmp_path / "a.mp4", None, 1, 1, "fp")
    WordsStore(lib.store).replace_lines(
        fid, "subtitle", [WordLine(3.0, 4.0, "시간이 다 됐어요", "subtitle", "ko")], status=WORDS_DONE
    )
    panel = TranscriptPanelWidget(lib)
    qtbot.addWidget(panel)
    panel.load_moment(moment("a.mp4", 3.0, 4.0, file_id=fid))
    qtbot.waitUntil(lambda: panel.list.count() == 1, timeout=10_000)
    assert "시간이 다 됐어요" in panel.current_text()
    panel.shutdown()
    lib.close()


def test_result_cards_show_source_badges_and_matched_words(qtbot: QtBot, theme_applied: None) -> None:
    model = ResultsModel()
    view = ResultsView(model)
    model.setParent(view)
    view.resize(760, 500)
    qtbot.addWidget(view)
    said = moment("talk.mp4", 4.0, 5.5, sources=("said",), words=((4.0, 5.5, "out of time", "said"),))
    seen = moment("shot.mp4", 0.0, 3.0, file_id=2)
    both = moment("sub.mkv", 1.0, 2.0, file_id=3, sources=("seen", "subtitle"), words=((1, 2, "hello", "subtitle"),))
    model.set_moments([said, seen, both])
    view.show()
    qtbot.waitExposed(view)
    assert badge_labels(both) == ["SEEN", "SUB"] and caption(said) == "“out of time”"
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "said: out of time" in tip and "(said;" in tip
    image = view.viewport().grab().toImage()

    def badge_colour(row: int) -> QColor:
        # The right-most badge sits in the top-right corner of the card's thumbnail area.
        rect = view.visualRect(model.index(row, 0))
        return image.pixelColor(QPoint(rect.right() - 16, rect.top() + 14))

    def close(a: QColor, b: QColor) -> bool:
        return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 60

    assert close(badge_colour(0), BADGE_COLOURS["said"])
    assert close(badge_colour(1), BADGE_COLOURS["seen"])
    assert close(badge_colour(2), BADGE_COLOURS["subtitle"])


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, light_warmup: None, theme_applied: None):  # type: ignore[no-untyped-def]
    from reelseek.desktop.main_window import MainWindow

    lib = FakeLibrary(tmp_path / "home")
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    w = MainWindow(lib, qsettings=qs, player_render="callback", audio=False)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


def test_main_window_transcript_click_seeks_the_player(qtbot: QtBot, window) -> None:  # type: ignore[no-untyped-def]
    window.pages.setCurrentIndex(1)  # the library page (the welcome page shows while no folder is watched)
    window.transcript.set_lines(LINES)
    qtbot.waitUntil(lambda: window.transcript.list.isVisible(), timeout=10_000)
    # The click asks the player (wired in MainWindow) to seek to the line's start. With no clip
    # loaded the player's frame-exact transport has nothing to move, so the request is checked.
    with qtbot.waitSignal(window.transcript.seek_requested, timeout=10_000) as sig:
        _click_item(qtbot, window.transcript, 2)
    assert sig.args and abs(float(sig.args[0]) - 9.0) < 1e-6


def test_search_field_documents_the_source_syntax(qtbot: QtBot) -> None:
    from reelseek.desktop.search_bar import SearchBarWidget

    bar = SearchBarWidget()
    qtbot.addWidget(bar)
    tip = bar.field.toolTip()
    assert all(s in tip for s in ("said:", "written:", "sub:", "seen:", '"quoted words"'))
    bar.stop()
