"""ResultsView: the grid of moments, with keyboard navigation, a context menu and drag-out."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QWidget

from reelseek.core.types import Moment
from reelseek.desktop import file_actions, theme
from reelseek.desktop.results_delegate import ResultCardDelegate
from reelseek.desktop.results_model import ResultsModel
from reelseek.desktop.timecode import timecode_range


class ResultsView(QListView):
    """Icon-mode list of result cards. Enter or double-click plays; dragging gives file URLs."""

    play_requested = Signal(object)  # Moment

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsView")
        self.setModel(model)
        self.setItemDelegate(ResultCardDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setMouseTracking(True)  # hover highlight on cards
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_self_context_menu_requested)
        self.doubleClicked.connect(self._on_self_double_clicked)

    def results_model(self) -> ResultsModel:
        model = self.model()
        assert isinstance(model, ResultsModel)
        return model

    def current_moment(self) -> Moment | None:
        return self.results_model().moment(self.currentIndex().row())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            m = self.current_moment()
            if m is not None:
                self.play_requested.emit(m)
                event.accept()
                return
        super().keyPressEvent(event)

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The menu for one result (built separately from exec() so tests can trigger its actions)."""
        m = self.results_model().moment(index.row())
        if m is None:
            return None
        menu = QMenu(self)
        entries = [
            ("play", "Play moment", "play", lambda: self.play_requested.emit(m)),
            ("reveal", "Reveal in file manager", "reveal", lambda: file_actions.reveal_in_file_manager(m.path)),
            ("copy_path", "Copy path", "copy", lambda: file_actions.copy_text(m.path)),
            (
                "copy_timecode",
                "Copy timecode range",
                "copy",
                lambda: file_actions.copy_text(timecode_range(m.start, m.end)),
            ),
            ("open", "Open in default application", "open", lambda: file_actions.open_in_default_app(m.path)),
        ]
        for name, text, icon_name, fn in entries:
            action = QAction(theme.icon(icon_name), text, menu)
            action.setObjectName(f"action_{name}")
            action.triggered.connect(fn)
            menu.addAction(action)
            if name == "play":
                menu.addSeparator()
        return menu

    @Slot(QPoint)
    def _on_self_context_menu_requested(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        self.setCurrentIndex(index)
        menu = self.context_menu(index)
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))
            menu.deleteLater()

    @Slot(QModelIndex)
    def _on_self_double_clicked(self, index: QModelIndex) -> None:
        m = self.results_model().moment(index.row())
        if m is not None:
            self.play_requested.emit(m)
