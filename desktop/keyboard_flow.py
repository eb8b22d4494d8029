"""KeyboardFlow: search box -> results -> player without the mouse, and Escape back to the search box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

if TYPE_CHECKING:
    from reelseek.desktop.main_window import MainWindow


class KeyboardFlow(QObject):
    """An event filter on the search field, the results and the player.

    Down or Tab in the search box moves into the results (the current card gets the focus ring);
    Escape in the results or the player returns to the search box. Editor keys (J/K/L, I/O, Space, B)
    are handled by the results and the player themselves, so they never reach the search box.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        window.search_bar.field.installEventFilter(self)
        window.results.view.installEventFilter(self)
        window.player.installEventFilter(self)

    def focus_results(self) -> bool:
        results = self._window.results
        if results.state() != "results" or results.model.rowCount() == 0:
            return False
        view = results.view
        if not view.currentIndex().isValid():
            view.setCurrentIndex(results.model.index(0))
        view.setFocus(Qt.FocusReason.TabFocusReason)
        return True

    def focus_search(self) -> None:
        field = self._window.search_bar.field
        field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        field.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if watched is self._window.search_bar.field:
            plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Tab) and plain:
                return self.focus_results()
            return False
        if key == Qt.Key.Key_Escape:
            self.focus_search()
            return True
        return False
