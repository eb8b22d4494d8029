"""The GUI says when the query's language is one the active model cannot read, offers the fix, and still searches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from reelseek.core.search_lang import MULTILINGUAL_MODEL_ID
from reelseek.desktop.language_notice import LanguageNoticeWidget
from reelseek.desktop.main_window import MainWindow
from tests.desktop.fakes import FakeLibrary, moment


class _EnglishOnlyLibrary(FakeLibrary):
    def model_id(self) -> str:
        return "vit-b-32"


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, light_warmup: None, theme_applied: None) -> Iterator[MainWindow]:
    lib = _EnglishOnlyLibrary(tmp_path / "home")
    lib.moments = [moment("a.mp4", 0, 2)]
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    w = MainWindow(lib, qsettings=qs, player_render="callback", audio=False)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    w.pages.setCurrentIndex(1)
    yield w
    w.shutdown()


def test_korean_query_on_an_english_model_warns_offers_setup_and_still_shows_results(
    qtbot: QtBot, window: MainWindow
) -> None:
    lib = window.library
    window.search_bar.field.setText("풀밭 위의 빨간 원")
    window.search_bar.search_now()
    qtbot.waitUntil(lambda: window.results.state() == "results", timeout=10000)
    assert [q.text for q in lib.search_calls][-1] == "풀밭 위의 빨간 원"  # not blocked
    notice = window.language_notice
    assert notice.isVisible() and "Korean" in notice.label.text() and "vit-b-32" in notice.label.text()
    with qtbot.waitSignal(notice.setup_requested, timeout=3000) as sig:
        notice.button.click()
    assert sig.args == [MULTILINGUAL_MODEL_ID]
    assert window.pages.currentWidget() is window.welcome
    assert window.welcome.model_setup.selected_model() == MULTILINGUAL_MODEL_ID


def test_english_query_hides_the_notice_again(qtbot: QtBot, window: MainWindow) -> None:
    window.search_bar.field.setText("красный круг")
    window.search_bar.search_now()
    qtbot.waitUntil(lambda: window.language_notice.isVisible(), timeout=10000)
    window.search_bar.field.setText("a red circle")
    window.search_bar.search_now()
    qtbot.waitUntil(lambda: not window.language_notice.isVisible(), timeout=10000)


def test_the_widget_stays_hidden_for_models_that_read_the_language(qtbot: QtBot) -> None:
    w = LanguageNoticeWidget()
    qtbot.addWidget(w)
    w.show()
    assert not w.check("reelseek-test-tiny", "풀밭 위의 빨간 원")  # the test model reads Korean
    assert not w.check(MULTILINGUAL_MODEL_ID, "красный круг")
    assert not w.check("no-such-model", "красный круг")
    assert w.check("vit-b-32", "красный круг") and w.isVisible()
