"""WelcomeWidget: first run — pick footage folders and set up the model; skippable at any time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from reelseek.desktop import theme
from reelseek.desktop.media_kinds import local_paths
from reelseek.desktop.model_setup import ModelSetupWidget

if TYPE_CHECKING:
    from reelseek.core.library import FolderInfo, Library


def _card(title: str, hint: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("StepCard")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(20, 16, 20, 18)
    layout.setSpacing(10)
    t = QLabel(title)
    t.setObjectName("StepTitle")
    h = QLabel(hint)
    h.setObjectName("StepHint")
    h.setWordWrap(True)
    layout.addWidget(t)
    layout.addWidget(h)
    return card, layout


class WelcomeWidget(QWidget):
    """Two steps side by side; "Open library" works whatever state they are in."""

    add_folder_clicked = Signal()
    folders_dropped = Signal(list)
    open_library_clicked = Signal()

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WelcomeView")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAcceptDrops(True)
        logo = QLabel()
        logo.setPixmap(theme.app_icon().pixmap(72, 72))
        title = QLabel("Find the moment in your footage")
        title.setObjectName("WelcomeTitle")
        subtitle = QLabel(
            "Describe a shot, drop a still or a clip, and reelseek finds where it happens. "
            "Your footage never leaves this computer."
        )
        subtitle.setObjectName("WelcomeSubtitle")
        subtitle.setWordWrap(True)

        folders_card, fl = _card(
            "1 · Add your footage folders",
            "reelseek watches these folders and indexes new, changed and moved clips in the background. "
            "You can also drop a folder anywhere on this window.",
        )
        self.add_button = QPushButton(theme.icon("folder-add"), "Add folder…")
        self.add_button.clicked.connect(self.add_folder_clicked)
        self.folder_list = QLabel("No folders yet.")
        self.folder_list.setObjectName("StepHint")
        self.folder_list.setWordWrap(True)
        fl.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        fl.addWidget(self.folder_list)
        fl.addStretch(1)

        model_card, ml = _card(
            "2 · Set up the search model",
            "The model turns frames and words into comparable vectors. It is downloaded once "
            "(or imported from a file for offline suites), then runs locally.",
        )
        self.model_setup = ModelSetupWidget(library, self)
        ml.addWidget(self.model_setup)
        ml.addStretch(1)

        self.open_button = QPushButton("Open library")
        self.open_button.setProperty("accent", True)
        self.open_button.clicked.connect(self.open_library_clicked)
        cards = QHBoxLayout()
        cards.setSpacing(16)
        cards.addWidget(folders_card, 1)
        cards.addWidget(model_card, 1)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.open_button)

        column = QVBoxLayout()
        column.setSpacing(14)
        column.addWidget(logo, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(8)
        column.addLayout(cards)
        column.addLayout(footer)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        inner = QVBoxLayout()
        inner.addStretch(1)
        inner.addLayout(column)
        inner.addStretch(2)
        holder = QWidget()
        holder.setLayout(inner)
        holder.setMaximumWidth(980)
        outer.addWidget(holder, 8)
        outer.addStretch(1)

    def set_folders(self, folders: Sequence[FolderInfo]) -> None:
        if folders:
            self.folder_list.setText("\n".join(f"• {Path(f.path).name}  —  {f.path}" for f in folders))
        else:
            self.folder_list.setText("No folders yet.")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(p.is_dir() for p in local_paths(event.mimeData())):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [str(p) for p in local_paths(event.mimeData()) if p.is_dir()]
        if folders:
            self.folders_dropped.emit(folders)
            event.acceptProposedAction()
