"""SearchBarWidget: debounce, Enter, chips from drops, filters, rejected drops."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage
from pytestqt.qtbot import QtBot

from reelseek.core.types import Filters, Query
from reelseek.desktop.search_bar import DEBOUNCE_MS, SearchBarWidget
from tests.desktop.fakes import Recorder


def drop_event(paths: list[Path]) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    # Qt keeps a pointer to the mime data only; hold it on the event for the test's lifetime.
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    event._mime = mime  # type: ignore[attr-defined]
    return event


@pytest.fixture
def png(tmp_path: Path) -> Path:
    p = tmp_path / "still.png"
    img = QImage(32, 18, QImage.Format.Format_RGB32)
    img.fill(QColor("red"))
    assert img.save(str(p))
    return p


def test_typing_searches_once_after_a_pause(qtbot: QtBot, bar: SearchBarWidget) -> None:
    rec = Recorder()
    bar.search_requested.connect(rec.record)
    text = "red circle -night"
    qtbot.keyClicks(bar.field, text)
    # Counted, not timed: a search per keystroke would be 17 of them. A machine that stalls
    # longer than the debounce mid-word may fire one for a partial word, never one per key.
    assert len(rec.calls) < len(text) // 2, "no search per keystroke"
    # The last key restarted the debounce and no event loop has run since: the whole text has
    # not been searched yet; it is once the pause has passed.
    assert all(q.text != text for q, _f in rec.calls), "the search did not wait for the pause"
    qtbot.waitUntil(lambda: bool(rec.calls) and rec.calls[-1][0].text == text, timeout=60_000)
    settled = len(rec.calls)
    qtbot.wait(DEBOUNCE_MS + 100)
    assert len(rec.calls) == settled, "nothing fires again once typing has stopped"
    query, filters = rec.calls[-1]
    assert query == Query(text="red circle -night")
    assert filters == Filters()


def test_enter_searches_now(qtbot: QtBot, bar: SearchBarWidget) -> None:
    rec = Recorder()
    bar.search_requested.connect(rec.record)
    qtbot.keyClicks(bar.field, "blue square")
    # (A machine that stalls longer than the debounce mid-word may already have fired a search
    # for a partial word; what Enter does is counted from here.)
    before = len(rec.calls)
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert len(rec.calls) == before + 1, "Enter does not wait for the debounce"
    assert rec.calls[-1][0].text == "blue square"
    qtbot.wait(DEBOUNCE_MS + 100)
    assert len(rec.calls) == before + 1, "the pending debounced search was dropped"


def test_dropped_image_becomes_a_removable_chip(qtbot: QtBot, bar: SearchBarWidget, png: Path) -> None:
    rec, cleared = Recorder(), Recorder()
    bar.search_requested.connect(rec.record)
    bar.cleared.connect(cleared.record)
    bar.dropEvent(drop_event([png]))
    assert [c.path for c in bar.chips()] == [png]
    assert rec.calls[-1][0] == Query(images=(png,))
    qtbot.mouseClick(bar.chips()[0].close_button, Qt.MouseButton.LeftButton)
    assert bar.chips() == []
    assert len(cleared.calls) == 1, "removing the only chip empties the query"


def test_dropped_clip_and_text_combine(qtbot: QtBot, bar: SearchBarWidget, tmp_path: Path) -> None:
    clip = tmp_path / "take.mov"
    clip.write_bytes(b"\0" * 16)
    rec = Recorder()
    bar.search_requested.connect(rec.record)
    bar.field.setText("sunset")
    bar.dropEvent(drop_event([clip]))
    assert rec.calls[-1][0] == Query(text="sunset", clips=(clip,))


def test_non_media_drop_is_rejected_with_a_message(qtbot: QtBot, bar: SearchBarWidget, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    fake_jpeg = tmp_path / "broken.jpg"
    fake_jpeg.write_text("not an image")
    rec, searched = Recorder(), Recorder()
    bar.rejected_drop.connect(rec.record)
    bar.search_requested.connect(searched.record)
    bar.dropEvent(drop_event([notes, fake_jpeg]))
    assert bar.chips() == []
    assert searched.calls == []
    (message,) = rec.values()
    assert "notes.txt" in message and "broken.jpg" in message
    assert "still image" in message


def test_filters(qtbot: QtBot, bar: SearchBarWidget) -> None:
    rec = Recorder()
    bar.search_requested.connect(rec.record)
    bar.set_folders(["/footage/day1", "/footage/day2"])
    bar.field.setText("crowd")
    bar.folder_combo.setCurrentIndex(2)
    bar.duration_combo.setCurrentIndex(1)
    assert bar.filters() == Filters(folders=("/footage/day2",), max_duration=30.0)
    assert rec.calls[-1][1] == bar.filters(), "changing a filter searches again"
    bar.set_folders(["/footage/day1"])  # the chosen folder went away
    assert bar.filters().folders == ()
