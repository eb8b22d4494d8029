"""The results view's feedback controls: the cards' thumbs, + / - keys, Ctrl+Z and More like this."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from reelseek.desktop.results.delegate import feedback_rects
from reelseek.desktop.results.model import ResultsModel
from reelseek.desktop.results.view import ResultsView
from tests.desktop.fakes import Recorder
from tests.desktop.test_results import view  # noqa: F401 - the fixture


def test_thumbs_keys_undo_and_menu_reach_the_controller(qtbot: QtBot, view: ResultsView) -> None:  # noqa: F811
    marks, undo, like, played = Recorder(), Recorder(), Recorder(), Recorder()
    view.mark_requested.connect(marks.record)
    view.undo_mark_requested.connect(undo.record)
    view.more_like_requested.connect(like.record)
    view.play_requested.connect(played.record)
    model = view.results_model()
    second = model.index(1)

    # A click on a card's thumb marks that card (not the current one) and plays nothing.
    up, down = feedback_rects(view.visualRect(second))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=up.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=down.center())
    assert [(c[0].path, c[1]) for c in marks.calls] == [(model.moment(1).path, 1), (model.moment(1).path, -1)]
    assert not played.calls

    # + (or =) and - mark the current card; Ctrl+Z asks to undo.
    view.setCurrentIndex(model.index(2))
    view.setFocus()
    for key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
        qtbot.keyClick(view, key)
    assert [(c[0].path, c[1]) for c in marks.calls[2:]] == [(model.moment(2).path, v) for v in (1, 1, -1)]
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(undo.calls) == 1

    # The context menu: More like this, the two marks and undo.
    menu = view.context_menu(model.index(0))
    assert menu is not None
    for name in ("more_like", "mark_relevant", "mark_irrelevant", "undo_mark"):
        action = menu.findChild(QAction, f"action_{name}")
        assert action is not None, name
        action.trigger()
    assert [c[0] for c in like.calls] == [model.moment(0)]
    assert (marks.calls[-2][0], marks.calls[-2][1]) == (model.moment(0), 1)
    assert (marks.calls[-1][0], marks.calls[-1][1]) == (model.moment(0), -1)
    assert len(undo.calls) == 2
    menu.deleteLater()


def test_cards_show_the_marks_they_are_given(view: ResultsView) -> None:  # noqa: F811
    model = view.results_model()
    assert all(model.index(i).data(ResultsModel.MarkRole) == 0 for i in range(3))
    changed = Recorder()
    model.dataChanged.connect(changed.record)
    model.set_mark_source(lambda m: 1 if m.path.endswith("b.mov") else -1 if m.path.endswith("c.mxf") else 0)
    assert changed.calls, "the cards were not told to repaint"
    assert [model.index(i).data(ResultsModel.MarkRole) for i in range(3)] == [0, 1, -1]
