"""Query syntax in the GUI: the "?" popover, half-typed syntax waits, a real "X then Y" search shows both."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reelseek.core.types import Query, SearchResult
from reelseek.desktop.query_help import SYNTAX, nothing_found_text
from reelseek.desktop.results.panel import ResultsPanelWidget
from reelseek.desktop.search_bar import DEBOUNCE_MS, SearchBarWidget
from tests.desktop.fakes import Recorder
from tests.desktop.gui_helpers import index_folder, open_window, search
from tests.synth.sequences import X, Y, Z, caption, scene, sequence_video


def test_help_popover_lists_the_syntax(qtbot: QtBot, bar: SearchBarWidget) -> None:
    bar.help_button.click()
    qtbot.waitUntil(bar.help_button.popup.isVisible, timeout=10_000)
    text = bar.help_button.popup.label.text()
    for needle in ("then", "then&lt;3s&gt;", "2:&quot;red car&quot;", "-word", "said:", "-0.5:people"):
        assert needle in text.replace('"', "&quot;"), needle
    assert len(SYNTAX) >= 6
    bar.help_button.popup.hide()
    assert "then" in bar.field.toolTip() and "2:" in bar.field.toolTip()


def test_half_typed_syntax_waits_and_enter_still_searches(qtbot: QtBot, bar: SearchBarWidget) -> None:
    rec, hints = Recorder(), Recorder()
    bar.search_requested.connect(rec.record)
    bar.syntax_hint.connect(hints.record)
    qtbot.keyClicks(bar.field, "red circle then")
    qtbot.waitUntil(lambda: bool(hints.calls), timeout=10_000)
    assert "at the end" in hints.calls[-1][0] and "at the end" in bar.field.toolTip()
    assert rec.calls == [] or all(c[0].text != "red circle then" for c in rec.calls)
    qtbot.keyClicks(bar.field, " blue square")
    qtbot.waitUntil(lambda: bool(rec.calls) and rec.calls[-1][0].text == "red circle then blue square", timeout=10_000)
    assert "at the end" not in bar.field.toolTip()
    bar.field.setText('2:"red')
    qtbot.wait(DEBOUNCE_MS)
    bar.field.returnPressed.emit()  # Enter: searched as typed, the error is shown by the results page
    assert rec.calls[-1][0].text == '2:"red'


def test_then_query_with_no_answer_says_why(qtbot: QtBot) -> None:
    panel = ResultsPanelWidget()
    qtbot.addWidget(panel)
    panel.show_search_result(Query(text="red then<4s> blue", then_window=10), SearchResult([], no_good_match=True))
    text = panel.placeholder_text()
    assert "“red” → “blue”" in text and "follow each other" in text and "then<30s>" in text
    assert nothing_found_text(Query(text="red circle")) is None


@pytest.mark.slow
def test_then_search_in_the_window_shows_the_range_of_both(qtbot: QtBot, tmp_path: Path, windows: list) -> None:
    footage = tmp_path / "footage"
    forward = sequence_video(footage / "forward.mp4", [(Z, 4), (X, 4), (Y, 4)], 1)
    reverse = sequence_video(footage / "reverse.mp4", [(Y, 4), (X, 4), (Z, 4)], 2)
    window = open_window(qtbot, tmp_path / "home", windows)
    index_folder(qtbot, window, footage, 2)
    # The first search of a new library loads (and may export) the text tower: done here, not
    # against the typing helper's 60 s wait on a busy machine.
    library = windows[-1][1]
    library.load_text_model()
    library.vector_index(library.search_model())
    moments = search(qtbot, window, f"{caption(X)} then {caption(Y)}")
    assert moments and all(Path(m.path).name == "forward.mp4" for m in moments), moments
    x, y = scene(forward, X), scene(forward, Y)
    m = moments[0]
    assert m.start <= x.start + 1.0 and m.end >= y.end - 1.0, m
    assert len(m.steps) == 2
    model = window.results.model
    # The card's range is the whole sequence: its in and out are A's start and B's end.
    assert model.data(model.index(0), model.RangeTextRole) == model.range_text(m)
    assert model.range_text(m) != model.range_text(type(m)(m.path, m.file_id, *m.steps[1][:2], m.score, m.best_time))
    # Weighted terms typed in the bar steer the ranking the same way as in the CLI.
    for text, want in (('3:"red circle" 1:"blue square"', X), ('1:"red circle" 3:"blue square"', Y)):
        top = search(qtbot, window, text)[0]
        video = forward if Path(top.path).name == "forward.mp4" else reverse
        assert video.scene_at(top.best_time).triple == want, (text, top)
