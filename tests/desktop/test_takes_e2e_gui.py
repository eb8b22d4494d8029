"""Takes through the real app: the real core indexes an original, a re-encode, a trimmed copy and a
proxy; the search shows one card with "4 takes" and its badge opens the other takes, each playable."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from reelseek.desktop.results.delegate import takes_badge_rect
from reelseek.desktop.results.model import ResultsModel
from tests.desktop.gui_helpers import index_folder, open_window, search
from tests.desktop.test_results import double_click
from tests.synth.copies import SHOT_CAPTION, make_takes_library

pytestmark = pytest.mark.slow


def test_the_shot_is_one_card_with_four_takes_that_open_and_play(qtbot: QtBot, tmp_path: Path, windows: list) -> None:
    lib = make_takes_library(tmp_path / "footage")
    window = open_window(qtbot, tmp_path / "home", windows)
    report = index_folder(qtbot, window, lib.root, 7)
    assert report.errors == []
    search(qtbot, window, SHOT_CAPTION)
    view, model = window.results.view, window.results.model
    face = model.index(0)
    assert face.data(ResultsModel.TakesRole) == 4
    shown = {str(p) for p in lib.takes}
    assert model.moment(0).path in shown
    assert str(lib.other) not in {t.path for t in model.moment(0).takes}
    cards = model.rowCount()

    badge = takes_badge_rect(view.visualRect(face), view.font(), 4)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=badge.center())
    assert model.rowCount() == cards + 3
    assert {model.moment(r).path for r in range(4)} == shown
    assert [model.index(r).data(ResultsModel.TakeRole) for r in range(1, 4)] == [(2, 4), (3, 4), (4, 4)]

    # A shown take plays like any card: double-click the second take.
    double_click(qtbot, view.viewport(), view.visualRect(model.index(2)).center())
    qtbot.waitUntil(lambda: window.player.moment() == model.moment(2), timeout=60_000)
