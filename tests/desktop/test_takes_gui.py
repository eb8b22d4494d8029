"""Takes in the results grid: a card shows "4 takes", clicking the badge shows the other takes, each playable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.settings import Settings
from reelseek.core.types import Query
from reelseek.desktop import theme
from reelseek.desktop.results.delegate import takes_badge_rect
from reelseek.desktop.results.model import ResultsModel
from reelseek.desktop.results.view import ResultsView
from reelseek.desktop.search_controller import SearchController
from reelseek.desktop.settings_dialog import SettingsDialog
from tests.desktop.fakes import FakeLibrary, Recorder, moment


def _cards() -> list:
    takes = (
        moment("A001_shot_hevc.mkv", 3, 9, file_id=2, folder="/footage/deliveries"),
        moment("A001_shot_trim.mov", 1, 7, file_id=3, folder="/footage/selects"),
        moment("A001_shot.mp4", 3, 9, file_id=4, folder="/footage/Proxy"),
    )
    face = replace(moment("A001_shot.mp4", 3, 9, file_id=1), takes=takes)
    return [face, moment("B007_other.webm", 4, 10, file_id=5), moment("C000_filler.mp4", 0, 3, file_id=6)]


@pytest.fixture
def view(qtbot: QtBot, theme_applied: None) -> ResultsView:
    model = ResultsModel()
    v = ResultsView(model)
    model.setParent(v)
    v.resize(760, 500)
    qtbot.addWidget(v)
    model.set_moments(_cards())
    v.show()
    qtbot.waitExposed(v)
    return v


def _names(v: ResultsView) -> list[str]:
    model = v.results_model()
    return [model.moment(r).path for r in range(model.rowCount())]  # type: ignore[union-attr]


def test_card_shows_four_takes_and_the_badge_expands_them(qtbot: QtBot, view: ResultsView) -> None:
    model = view.results_model()
    face = model.index(0)
    assert face.data(ResultsModel.TakesRole) == 4
    assert "4 takes" in face.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(1).data(ResultsModel.TakesRole) == 0
    assert model.rowCount() == 3
    # Painted: the badge's pixels differ from the thumbnail's plain background around it.
    rect = takes_badge_rect(view.visualRect(face), view.font(), 4)
    img = view.viewport().grab().toImage()
    inside = QPoint(rect.left() + 3, rect.center().y())
    assert img.pixelColor(inside).name() == theme.ACCENT.name()
    alone = takes_badge_rect(view.visualRect(model.index(1)), view.font(), 4)  # a card without takes
    assert img.pixelColor(QPoint(alone.left() + 3, alone.center().y())).name() != theme.ACCENT.name()

    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert model.rowCount() == 6
    assert _names(view)[:4] == [
        "/footage/A001_shot.mp4",
        "/footage/deliveries/A001_shot_hevc.mkv",
        "/footage/selects/A001_shot_trim.mov",
        "/footage/Proxy/A001_shot.mp4",
    ]
    assert [model.index(r).data(ResultsModel.TakeRole) for r in range(1, 4)] == [(2, 4), (3, 4), (4, 4)]
    assert model.index(4).data(ResultsModel.TakeRole) is None  # the next card is a card again
    assert face.data(ResultsModel.ExpandedRole)

    # Each shown take plays like any card.
    played = Recorder()
    view.play_requested.connect(played.record)
    view.setCurrentIndex(model.index(2))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert [m.path for m in played.values()] == ["/footage/selects/A001_shot_trim.mov"]

    # Clicking the badge again folds them back.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert model.rowCount() == 3 and not model.is_expanded(0)


def test_clicking_the_card_outside_the_badge_does_not_expand(qtbot: QtBot, view: ResultsView) -> None:
    face_rect = view.visualRect(view.results_model().index(0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=face_rect.center() + QPoint(40, 0))
    assert view.results_model().rowCount() == 3


def test_context_menu_and_key_t_toggle_takes_and_rows_below_stay_right(qtbot: QtBot, view: ResultsView) -> None:
    model = view.results_model()
    # A second grouped card lower down: expanding the first must not confuse the second.
    cards = _cards()
    cards[2] = replace(cards[2], takes=(moment("C000_copy.mp4", 0, 3, file_id=7),))
    model.set_moments(cards)
    menu = view.context_menu(model.index(0))
    assert menu is not None
    action = menu.findChild(type(menu.actions()[0]), "action_takes")
    assert action is not None and "3 other takes" in action.text()
    action.trigger()
    menu.deleteLater()
    assert model.rowCount() == 6
    assert model.index(5).data(ResultsModel.TakesRole) == 2
    view.setCurrentIndex(model.index(5))
    qtbot.keyClick(view, Qt.Key.Key_T)
    assert _names(view)[-1] == "/footage/C000_copy.mp4" and model.index(6).data(ResultsModel.TakeRole) == (2, 2)
    view.setCurrentIndex(model.index(0))
    qtbot.keyClick(view, Qt.Key.Key_T)  # fold the first: the second card's take moves up with it
    assert model.rowCount() == 4
    assert model.index(2).data(ResultsModel.TakesRole) == 2 and model.index(3).data(ResultsModel.TakeRole) == (2, 2)
    model.set_moments(_cards())  # a new search starts folded
    assert model.rowCount() == 3 and not model.is_expanded(0)


def test_settings_switch_turns_folding_off_for_the_app_search(qtbot: QtBot, tmp_path: Path) -> None:
    library = Library(tmp_path / "home", model_id=None)
    try:
        dialog = SettingsDialog(library, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(dialog)
        assert dialog.takes_check.isChecked(), "takes fold by default"
        dialog.takes_check.setChecked(False)
        dialog.accept()
        assert Settings.load(library.paths.settings_file).group_takes is False
    finally:
        library.close()
    fake = FakeLibrary(tmp_path / "fake")
    ctl = SearchController(fake)  # type: ignore[arg-type]
    try:
        for grouped in (True, False):
            fake.settings.group_takes = grouped
            # The first search imports the model's libraries (torch): minutes on a busy machine.
            with qtbot.waitSignal(ctl.finished, timeout=600_000):
                ctl.search(Query(text="a red circle"))
            assert fake.search_grouped is grouped
    finally:
        ctl.shutdown()
