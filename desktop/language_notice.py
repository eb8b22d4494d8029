"""LanguageNoticeWidget: says when the query's language is one the active model cannot read, and offers a fix."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from reelseek.core.search_lang import MULTILINGUAL_MODEL_ID, detect_script, reads_language
from reelseek.desktop import theme


class LanguageNoticeWidget(QFrame):
    """A banner under the search bar; the search itself is never held back (results show below it)."""

    setup_requested = Signal(str)  # the multilingual model's registry id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        self.setProperty("level", "warning")
        self.label = QLabel()
        self.label.setObjectName("NoticeText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the model id and script name only, but stay safe
        self.button = QPushButton(theme.icon("download"), "Set up the multilingual model…")
        self.button.clicked.connect(lambda: self.setup_requested.emit(MULTILINGUAL_MODEL_ID))
        close = QToolButton()
        close.setIcon(theme.icon("close"))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self.hide()

    def check(self, model_id: str, text: str | None) -> bool:
        """Show the notice when ``text`` is in a script ``model_id`` was not trained on; hide it otherwise."""
        from reelseek.core.models import ModelError, get_spec

        guess = detect_script(text or "")
        try:
            spec = get_spec(model_id)
        except ModelError:
            spec = None
        if spec is None or guess is None or guess.share < 0.3 or reads_language(spec, guess.language):
            self.hide()
            return False
        self.label.setText(
            f"{spec.id} was trained on English text; this query is {guess.name}, so the results below may be poor. "
            f"The multilingual model {MULTILINGUAL_MODEL_ID} understands ~100 languages."
        )
        self.show()
        return True
