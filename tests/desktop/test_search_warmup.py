"""The app's search warm-up loads the torch-free text tower (not the full model) before the first search."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.types import Query
from reelseek.desktop.search_controller import SearchController


def test_warm_up_loads_only_the_text_tower_and_the_first_search_uses_it(qtbot: QtBot, tmp_path: Path) -> None:
    library = Library(tmp_path / "home", model_id="reelseek-test-tiny", device="cpu")
    ctl = SearchController(library)
    try:
        ctl.warm_up()
        qtbot.waitUntil(lambda: "reelseek-test-tiny" in library._text_encoders, timeout=300_000)
        assert library._embedders == {}  # the full (torch) model was not loaded
        with qtbot.waitSignal(ctl.finished, timeout=120_000) as sig:
            ctl.search(Query(text="a red circle"))
        assert sig.args[1].moments == []  # nothing indexed: an empty answer, not an error
        assert library._embedders == {}
    finally:
        ctl.shutdown()
        library.close()
