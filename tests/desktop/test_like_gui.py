"""More like this and thumbs up/down through the real window, core and test model (no fakes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.types import Moment
from reelseek.desktop.main_window import MainWindow
from reelseek.desktop.results.delegate import feedback_rects
from reelseek.desktop.results.model import ResultsModel
from tests.desktop.gui_helpers import TEST_MODEL, open_window, search
from tests.synth.takes import write_takes_library

pytestmark = pytest.mark.slow
RERANK_TIMEOUT_MS = 60_000  # a busy 2-core machine; nothing here measures time


@pytest.fixture(scope="module")
def indexed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The takes library indexed once by the real core (words off: they play no part here), so
    the window opens on a searchable library instead of waiting for its own worker."""
    root = tmp_path_factory.mktemp("takes")
    write_takes_library(root)
    home = tmp_path_factory.mktemp("home")
    with Library(home, model_id=TEST_MODEL) as lib:
        report = lib.index([root], words=False)
    assert report.indexed == 8 and not report.errors, report
    return home


def _order(window: MainWindow) -> list[tuple[str, float]]:
    window.results.show_more()  # compare whole lists: a list without marks cuts its weak tail
    return [(Path(m.path).name, round(m.start, 2)) for m in window.results.model.moments()]


def _row(window: MainWindow, name: str, t: float) -> int:
    window.results.show_more()
    for i, m in enumerate(window.results.model.moments()):
        if Path(m.path).name == name and m.start - 0.5 <= t <= m.end + 0.5:
            return i
    raise AssertionError(f"{name} at {t} s is not among {_order(window)}")


def _wait_rerank(qtbot: QtBot, window: MainWindow, action) -> None:  # type: ignore[no-untyped-def]
    """Run ``action`` and wait until the search it started has put its cards up."""
    gen = window.search.generation()
    with qtbot.waitSignal(window.search.finished, timeout=RERANK_TIMEOUT_MS):
        action()
    assert window.search.generation() > gen
    qtbot.waitUntil(lambda: not window.search.is_busy() and window.results.state() == "results", timeout=10_000)


class _CountingEncoder:
    """The real encoder, counting the inference calls a re-rank must not make."""

    def __init__(self, inner: object, calls: list[str]) -> None:
        self._inner, self._calls = inner, calls

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._inner, name)
        if name in ("encode_texts", "encode_frames"):
            self._calls.append(name)
        return attr


def test_more_like_this_thumbs_and_undo(
    qtbot: QtBot, indexed_home: Path, windows: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(qtbot, indexed_home, windows)
    view = window.results.view
    # Every take as its own card, and the weak tail shown: the test ranks individual takes.
    monkeypatch.setattr(windows[0][1].settings, "group_takes", False)

    # Right-click a card ▸ More like this: the other takes of its scene come first.
    search(qtbot, window, "a circle")
    # From here on nothing is embedded: more like this uses stored frames, marks re-rank by vector math.
    calls: list[str] = []
    searcher = windows[0][1].searcher()
    for attr in ("_text_encoder", "_embedder"):
        factory = getattr(searcher, attr)
        monkeypatch.setattr(searcher, attr, lambda f=factory: _CountingEncoder(f(), calls))
    take1 = view.results_model().index(_row(window, "take1.mp4", 1.0))
    menu = view.context_menu(take1)
    assert menu is not None
    more = menu.findChild(QAction, "action_more_like")
    assert more is not None and more.text() == "More like this"
    _wait_rerank(qtbot, window, more.trigger)
    like = window.search.like_moment()
    assert like is not None and Path(like.path).name == "take1.mp4"
    files = list(dict.fromkeys(name for name, _ in _order(window)))
    assert files[0] == "take2.mkv", _order(window)
    assert "take3.webm" in files[:3], _order(window)
    menu.deleteLater()

    # A new query clears what the thumbs refine; the red square is not a circle, so it ranks low.
    search(qtbot, window, "a circle")
    window.results.show_more()
    assert not window.search.marks()
    original = _order(window)
    r0 = _row(window, "other_3.mp4", 1.0)
    assert r0 > 0, original

    # Thumbs up on its card: it re-ranks to the top, and the card shows the mark.
    def click_thumb(name: str, t: float, up: bool) -> None:
        index = view.results_model().index(_row(window, name, t))
        view.scrollTo(index)
        rect = feedback_rects(view.visualRect(index))[0 if up else 1]
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    _wait_rerank(qtbot, window, lambda: click_thumb("other_3.mp4", 1.0, True))
    assert _row(window, "other_3.mp4", 1.0) == 0, _order(window)
    top = view.results_model().index(0)
    assert top.data(ResultsModel.MarkRole) == 1

    # Ctrl+Z takes the mark back: the original order returns, the thumb is off.
    view.setFocus()
    _wait_rerank(qtbot, window, lambda: qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier))
    assert _order(window) == original
    assert not window.search.marks()
    assert all(view.results_model().index(i).data(ResultsModel.MarkRole) == 0 for i in range(len(original)))

    # Thumbs down on the best card moves it down; clicking the same thumb again clears it.
    first_name, first_start = original[0]
    _wait_rerank(qtbot, window, lambda: click_thumb(first_name, first_start + 0.1, False))
    assert _row(window, first_name, first_start + 0.1) > 0, _order(window)
    assert window.search.marks().value_of(*_path_range(window, first_name, first_start)) == -1
    _wait_rerank(qtbot, window, lambda: click_thumb(first_name, first_start + 0.1, False))
    assert _order(window) == original
    assert not window.search.marks()
    assert calls == [], calls


def _path_range(window: MainWindow, name: str, start: float) -> tuple[str, float, float]:
    m: Moment = window.results.model.moments()[_row(window, name, start + 0.1)]
    return m.path, m.start, m.end
