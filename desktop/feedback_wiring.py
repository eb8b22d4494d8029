"""More like this and thumbs up/down in the window: results view ⇄ search controller ⇄ card marks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelseek.core.types import Moment

if TYPE_CHECKING:
    from reelseek.desktop.main_window import MainWindow

# For Help ▸ Keyboard shortcuts (the player's own key line stays short).
FEEDBACK_KEYS = "+/- result relevant/not relevant · Ctrl+Z undo the last mark · right-click a result: More like this"


def connect_feedback(window: MainWindow) -> None:
    """Right-click ▸ More like this, the cards' thumbs, + / - keys and Ctrl+Z reach the search
    controller; its marks paint the cards' thumbs."""
    view, search, model = window.results.view, window.search, window.results.model

    def mark_of(m: Moment) -> int:
        return search.marks().value_of(m.path, m.start, m.end)

    def on_more_like(m: Moment) -> None:
        search.more_like(m)
        window.statusBar().showMessage(f"Searching for more like {m.path.rsplit('/', 1)[-1]}…")

    model.set_mark_source(mark_of)
    search.marks_changed.connect(lambda: model.set_mark_source(mark_of))
    view.more_like_requested.connect(on_more_like)
    view.mark_requested.connect(search.mark)
    view.undo_mark_requested.connect(search.undo_mark)
