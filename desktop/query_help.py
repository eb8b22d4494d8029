"""The search bar's "?" popover: the query syntax (then, weights, -words, quotes, source prefixes) at a glance."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Slot
from PySide6.QtWidgets import QFrame, QLabel, QToolButton, QVBoxLayout, QWidget

from reelseek.core.query_syntax import QuerySyntaxError, no_sequence_message, parse_query
from reelseek.core.types import Query

# (what to type, what it does); the same list is in docs/query-syntax.md.
SYNTAX: list[tuple[str, str]] = [
    ("red car at night", "describe the moment in plain words"),
    ("beach -night", "-word pushes results away from it"),
    ('2:"red car" night', 'W:word or W:"words" weighs a term (here twice the rest)'),
    ("beach -0.5:people", "a weighted -word pushes away more or less"),
    ("car stops then door opens", "A then B: B follows A within 10 s (also >>)"),
    ("car stops then<3s> door opens", "then<N s> sets the gap; chain more steps with more then"),
    ('"then" and now', "quotes keep words together; a quoted then is just the word"),
    ('said:"out of time"', "only speech; also written: sub: seen:"),
]


def syntax_html() -> str:
    rows = "".join(
        f"<tr><td><code>{_escape(typed)}</code></td><td>&nbsp;&nbsp;{_escape(does)}</td></tr>" for typed, does in SYNTAX
    )
    return f"<b>Search syntax</b><table cellspacing='3'>{rows}</table>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def syntax_error(text: str) -> str | None:
    """The parser's message for text that cannot be searched as typed, else None."""
    try:
        parse_query(text)
    except QuerySyntaxError as e:
        return str(e)
    return None


def nothing_found_text(query: Query) -> str | None:
    """For a then-query with no answer: which steps never followed each other, and what to try."""
    return no_sequence_message(query.text, query.then_window)


class QueryHelpPopup(QFrame):
    """A popup (closes on any click outside) listing the syntax."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QueryHelp")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        self.label = QLabel(syntax_html())
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label)


class QueryHelpButton(QToolButton):
    """The "?" next to the search field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("QueryHelpButton")
        self.setText("?")
        self.setToolTip("Search syntax: then, weights, -words, said:/written:")
        self.setAccessibleName("Search syntax help")
        self.popup = QueryHelpPopup(self)
        self.clicked.connect(self._on_clicked)

    @Slot()
    def _on_clicked(self) -> None:
        self.popup.adjustSize()
        below = self.mapToGlobal(QPoint(0, self.height()))
        self.popup.move(below.x() + self.width() - self.popup.width(), below.y())
        self.popup.show()
