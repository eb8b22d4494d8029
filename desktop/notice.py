"""NoticeWidget: a dismissable banner for messages that must not block (no modal boxes mid-work)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from reelseek.desktop import theme

_ICONS = {"info": "search", "warning": "warning", "error": "error"}


class NoticeWidget(QFrame):
    """One line of text with a level (info, warning, error); hidden until :meth:`show_notice`."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        self._level = "info"
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setObjectName("NoticeText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setIcon(theme.icon("close"))
        close.setIconSize(QSize(14, 14))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_notice(self, text: str, level: str = "info") -> None:
        self._level = level
        self.setProperty("level", level)
        self.icon.setPixmap(theme.icon(_ICONS.get(level, "warning")).pixmap(16, 16))
        self.label.setText(text)
        # Re-polish so the [level=...] selector of the stylesheet applies to the new value.
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def level(self) -> str:
        return self._level

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
