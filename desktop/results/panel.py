"""ResultsPanelWidget: the results grid, or a placeholder saying why there is nothing to show."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from reelseek.core.types import Moment, Query, SearchResult
from reelseek.desktop.query_help import nothing_found_text
from reelseek.desktop.results.model import ResultsModel
from reelseek.desktop.results.view import ResultsView


class ResultsPanelWidget(QStackedWidget):
    """Page 0: a centred message (empty library, no model, no good match, error). Page 1: the grid."""

    action_clicked = Signal(str)  # the placeholder button's action name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ResultsModel(self)
        self.view = ResultsView(self.model, self)
        self._action = ""
        self._weak: list[Moment] = []
        self._more: list[Moment] = []  # the weak tail core cut from the list, shown on demand
        page = QWidget()
        page.setObjectName("ResultsPlaceholder")
        self.title = QLabel()
        self.title.setObjectName("PlaceholderTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel()
        self.text.setObjectName("Placeholder")
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # queries are user text, never markup
        self.button = QPushButton()
        self.button.clicked.connect(self._on_button_clicked)
        layout = QVBoxLayout(page)
        layout.addStretch(2)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addSpacing(8)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        layout.setContentsMargins(40, 20, 40, 20)
        self.addWidget(page)
        grid = QWidget()
        self.more_button = QPushButton()
        self.more_button.setObjectName("ShowMore")
        self.more_button.setToolTip("Weaker moments: confidence dropped below the ones above")
        self.more_button.clicked.connect(self._on_more_button_clicked)
        self.more_button.hide()
        grid_layout = QVBoxLayout(grid)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addWidget(self.view, 1)
        grid_layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.addWidget(grid)
        self._state = ""

    def show_placeholder(self, state: str, title: str, text: str, action: str = "", action_text: str = "") -> None:
        self._state = state
        self.title.setText(title)
        self.text.setText(text)
        self._action = action
        self.button.setText(action_text)
        self.button.setVisible(bool(action))
        self.setCurrentIndex(0)

    def show_idle(self, *, has_folders: bool, has_model: bool) -> None:
        """Why there are no results yet: no folders, no model, or no query."""
        if not has_folders:
            self.show_placeholder(
                "empty",
                "Your library is empty",
                "Add a footage folder (or drop one on the window). reelseek indexes it in the background.",
                "add_folder",
                "Add footage folder…",
            )
        elif not has_model:
            self.show_placeholder(
                "no_model",
                "No search model yet",
                "Searching needs the model. Download it or import a weights file; "
                "browsing folders and settings work meanwhile.",
                "setup",
                "Set up the model…",
            )
        else:
            self.show_placeholder(
                "idle",
                "Describe a moment",
                "Type what happens in the shot, drop a still or a clip on the window, or exclude things with -word.",
            )

    def show_search_result(self, query: Query, result: SearchResult) -> None:
        """The cards, or a clear "no good match" instead of noise (the weak moments stay one click away)."""
        what = describe_query(query)
        if not result.moments:
            self.show_placeholder("no_match", "Nothing found", nothing_found_text(query) or f"No moments match {what}.")
        elif result.no_good_match:
            self._weak = list(result.moments)
            self._more = list(result.more)
            self.show_placeholder(
                "no_match",
                "No good match",
                f"Nothing in the library looks like {what}: the closest moments score no higher than "
                "queries with no answer do in this library.",
                "show_anyway",
                "Show the closest moments anyway",
            )
        else:
            self.show_results(result.moments, more=result.more)

    def show_results(self, moments: Sequence[Moment], *, more: Sequence[Moment] = ()) -> None:
        self._state = "results"
        self.model.set_moments(moments)
        self._more = list(more)
        self._update_more_button()
        self.setCurrentIndex(1)
        if moments:
            self.view.setCurrentIndex(self.model.index(0))
        self.view.scrollToTop()

    def show_more(self) -> int:
        """Add the weak tail below the cards; returns how many were added."""
        more, self._more = self._more, []
        self.model.append_moments(more)
        self._update_more_button()
        return len(more)

    def more_count(self) -> int:
        return len(self._more)

    def _update_more_button(self) -> None:
        n = len(self._more)
        self.more_button.setText(f"Show {n} more (lower confidence)")
        self.more_button.setVisible(n > 0)

    def _on_more_button_clicked(self) -> None:
        self.show_more()

    def state(self) -> str:
        return self._state

    def placeholder_text(self) -> str:
        return f"{self.title.text()}\n{self.text.text()}" if self.currentIndex() == 0 else ""

    def _on_button_clicked(self) -> None:
        if self._action == "show_anyway":
            self.show_results(self._weak, more=self._more)
        else:
            self.action_clicked.emit(self._action)


def describe_query(query: Query) -> str:
    parts = [f"“{query.text}”"] if query.text else []
    parts += [p.name for p in (*query.images, *query.clips)]
    return " + ".join(parts) or "this query"
