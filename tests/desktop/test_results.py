"""ResultsModel, ResultsView and ThumbnailLoader: cards, keyboard, context menu, drag-out, thumbnails."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from reelseek.desktop import file_actions
from reelseek.desktop.results.model import ResultsModel
from reelseek.desktop.results.thumbnails import ThumbnailLoader
from reelseek.desktop.results.view import ResultsView
from tests.desktop.fakes import FakeLibrary, Recorder, moment


def jpeg(colour: str = "#20a040", w: int = 64, h: int = 36) -> bytes:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(QColor(colour))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "JPEG")
    return bytes(data.data())


def double_click(qtbot: QtBot, widget: QWidget, pos: QPoint) -> None:
    """A real double-click: Qt 6 item views need the press/release before the double-click event."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


@pytest.fixture
def view(qtbot: QtBot, theme_applied: None) -> ResultsView:
    model = ResultsModel()
    v = ResultsView(model)
    model.setParent(v)
    v.resize(760, 500)
    qtbot.addWidget(v)
    model.set_moments([moment("a.mp4", 1, 3), moment("b.mov", 10, 14.5, file_id=2), moment("c.mxf", 0, 2)])
    v.show()
    qtbot.waitExposed(v)
    return v


def test_model_rows_roles_and_lazy_thumbnails(qtbot: QtBot) -> None:
    model = ResultsModel()
    wanted = Recorder()
    model.thumbnail_wanted.connect(wanted.record)
    m = moment("beach.mp4", 4, 8)
    model.set_moments([m])
    idx = model.index(0)
    assert model.rowCount() == 1
    assert idx.data() == "beach.mp4"
    assert idx.data(ResultsModel.MomentRole) == m
    assert "00:00:04:00 – 00:00:08:00 (25 fps)" in idx.data(Qt.ItemDataRole.ToolTipRole)
    assert idx.data(ResultsModel.ThumbnailRole) is None
    assert idx.data(ResultsModel.ThumbnailRole) is None
    assert wanted.values() == [m], "a thumbnail is asked for once, not on every paint"
    pix = QPixmap(16, 9)
    with qtbot.waitSignal(model.dataChanged):
        model.set_thumbnail(m, pix)
    assert idx.data(ResultsModel.ThumbnailRole) is not None
    model.set_thumbnail(m, None)  # offline: remembered as missing, not asked again
    assert idx.data(ResultsModel.ThumbnailRole) is None
    assert len(wanted.calls) == 1


def test_drag_out_gives_file_urls(qtbot: QtBot) -> None:
    model = ResultsModel()
    model.set_moments([moment("a.mp4", 1, 2), moment("a.mp4", 5, 6), moment("b.mp4", 0, 1)])
    mime = model.mimeData([model.index(i) for i in range(3)])
    assert [u.toLocalFile() for u in mime.urls()] == ["/footage/a.mp4", "/footage/b.mp4"]
    assert all(u.isLocalFile() for u in mime.urls())
    assert "00:00:05:00 – 00:00:06:00" in mime.text()
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    view = ResultsView(model)
    qtbot.addWidget(view)
    model.setParent(view)
    assert view.dragEnabled() and view.dragDropMode() == ResultsView.DragDropMode.DragOnly


def test_keyboard_navigation_and_enter_plays(qtbot: QtBot, view: ResultsView) -> None:
    rec = Recorder()
    view.play_requested.connect(rec.record)
    view.setFocus()
    view.setCurrentIndex(view.model().index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.currentIndex().row() == 1
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert [m.path for m in rec.values()] == ["/footage/b.mov"]


def test_double_click_plays(qtbot: QtBot, view: ResultsView) -> None:
    rec = Recorder()
    view.play_requested.connect(rec.record)
    rect = view.visualRect(view.model().index(2, 0))
    double_click(qtbot, view.viewport(), rect.center())
    assert [m.path for m in rec.values()] == ["/footage/c.mxf"]


def test_context_menu_actions(qtbot: QtBot, view: ResultsView, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(file_actions, "reveal_in_file_manager", lambda p: opened.append(("reveal", str(p))))
    monkeypatch.setattr(file_actions, "open_in_default_app", lambda p: opened.append(("open", str(p))))
    rec = Recorder()
    view.play_requested.connect(rec.record)
    menu = view.context_menu(view.model().index(1, 0))
    assert menu is not None
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert {"action_play", "action_reveal", "action_copy_path", "action_copy_timecode", "action_open"} <= set(actions)
    assert "action_add_to_selects" in actions
    actions["action_copy_path"].trigger()
    assert QGuiApplication.clipboard().text() == "/footage/b.mov"
    actions["action_copy_timecode"].trigger()
    # SMPTE at the file's rate (untagged files count from 00:00:00:00 at 25 fps): 14.5 s is frame 12.5 -> 13.
    assert QGuiApplication.clipboard().text() == "00:00:10:00 – 00:00:14:13"
    view.results_model().set_timecode_mode("seconds")
    actions["action_copy_timecode"].trigger()
    assert QGuiApplication.clipboard().text() == "00:00:10.000 – 00:00:14.500"
    actions["action_reveal"].trigger()
    actions["action_open"].trigger()
    actions["action_play"].trigger()
    assert opened == [("reveal", "/footage/b.mov"), ("open", "/footage/b.mov")]
    assert len(rec.calls) == 1
    menu.deleteLater()


def test_cards_paint_thumbnail_and_text(qtbot: QtBot, view: ResultsView) -> None:
    model = view.model()
    assert isinstance(model, ResultsModel)
    pix = QPixmap(160, 90)
    pix.fill(QColor("#ff0000"))
    model.set_thumbnail(model.moment(0), pix)
    image = view.viewport().grab().toImage()
    rect = view.visualRect(model.index(0, 0))
    centre = QPoint(rect.center().x(), rect.top() + 60)  # inside the thumbnail area
    assert image.pixelColor(centre).red() > 200 and image.pixelColor(centre).green() < 60


def test_thumbnail_loader_decodes_off_the_gui_thread(qtbot: QtBot, tmp_path: Path) -> None:
    lib = FakeLibrary(tmp_path)
    lib.thumb_bytes = jpeg()
    loader = ThumbnailLoader(lib)  # type: ignore[arg-type]
    rec = Recorder()
    loader.loaded.connect(rec.record)
    m = moment()
    loader.request(m)
    loader.request(m)  # in flight already: not decoded twice
    qtbot.waitUntil(lambda: len(rec.calls) == 1, timeout=3000)
    got_moment, pixmap = rec.calls[0]
    assert got_moment == m and pixmap.width() == 64
    lib.thumb_bytes = None
    loader.request(moment("offline.mp4"))
    qtbot.waitUntil(lambda: len(rec.calls) == 2, timeout=3000)
    assert rec.calls[1][1] is None
    loader.shutdown()
