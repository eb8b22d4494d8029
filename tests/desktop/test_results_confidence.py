"""The results panel's side of calibrated confidence: "no good match" with the closest anyway, "show more"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from reelseek.core.types import LibraryStatus, Query, SearchResult
from reelseek.desktop.folders_panel import FoldersWidget, calibration_text, calibration_tooltip
from reelseek.desktop.results.panel import ResultsPanelWidget
from tests.desktop.fakes import moment


def _panel(qtbot: QtBot) -> ResultsPanelWidget:
    panel = ResultsPanelWidget()
    panel.resize(760, 500)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_good_results_show_the_head_and_more_on_demand(qtbot: QtBot, theme_applied: None) -> None:
    panel = _panel(qtbot)
    head = [moment("a.mp4", 1, 2, confidence=0.97), moment("b.mp4", 3, 4, file_id=2, confidence=0.81)]
    tail = [moment("c.mp4", 0, 1, file_id=3, confidence=0.3), moment("d.mp4", 5, 6, file_id=4, confidence=0.1)]
    panel.show_search_result(Query(text="a red circle"), SearchResult(head, no_good_match=False, more=tail))
    assert panel.state() == "results" and panel.model.moments() == head
    assert panel.more_button.isVisible() and "2 more" in panel.more_button.text()
    panel.more_button.click()
    assert panel.model.moments() == head + tail  # appended below, the first cards keep their place
    assert not panel.more_button.isVisible() and panel.more_count() == 0
    # A new search without a tail hides the row.
    panel.show_search_result(Query(text="x"), SearchResult(head[:1], no_good_match=False))
    assert not panel.more_button.isVisible()


def test_no_good_match_offers_the_closest_anyway_with_their_low_confidence(qtbot: QtBot, theme_applied: None) -> None:
    panel = _panel(qtbot)
    closest = [moment("a.mp4", 1, 2, confidence=0.31)]
    tail = [moment("b.mp4", 3, 4, file_id=2, confidence=0.05)]
    panel.show_search_result(Query(text="zxqv blorft"), SearchResult(closest, no_good_match=True, more=tail))
    assert panel.state() == "no_match"
    assert "No good match" in panel.placeholder_text() and "zxqv blorft" in panel.placeholder_text()
    assert panel.button.isVisible() and "closest" in panel.button.text().lower()
    panel.button.click()
    assert panel.state() == "results" and panel.model.moments() == closest
    assert panel.model.moments()[0].confidence == 0.31  # shown as it is, not rounded up
    tip = panel.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "confidence 31%" in tip
    assert panel.more_button.isVisible()
    panel.more_button.click()
    assert panel.model.moments() == closest + tail


def test_status_panel_text_says_what_the_calibration_found(qtbot: QtBot) -> None:
    cal = {
        "model": "reelseek-test-tiny",
        "generation": 12,
        "segments": 19,
        "sample_frames": 65,
        "null_queries": 36,
        "null_ceiling": 0.11156,
        "null_gap_median": 0.07471,
        "null_gap_max": 0.15908,
        "background": 0.42547,
        "computed_at": 0.0,
    }
    text = calibration_text(cal)
    assert "0.112" in text and "36 unrelated queries" in text and "65 frames" in text
    tip = calibration_tooltip(cal)
    assert "generation 12" in tip and "0.1116" in tip and "0.42547" in tip
    assert calibration_text(None) == "" and "Not calibrated" in calibration_tooltip(None)
    st = LibraryStatus({"done": 3}, [], [], 9, None, calibration=cal)
    assert st.to_json()["calibration"] == cal
    panel = FoldersWidget()
    qtbot.addWidget(panel)
    panel.set_status(st)
    assert panel.calibration.text() == text and "generation 12" in panel.calibration.toolTip()
    panel.set_status(LibraryStatus({"done": 0}, [], [], 0, None))
    assert panel.calibration.text() == "" and "Not calibrated" in panel.calibration.toolTip()
