"""ResultsView: the grid of moments, with keyboard navigation, a context menu and drag-out."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QWidget

from reelseek.core.types import Moment
from reelseek.desktop import file_actions, theme
from reelseek.desktop.export_controller import export_menu
from reelseek.desktop.results.delegate import ResultCardDelegate, takes_badge_rect
from reelseek.desktop.results.model import ResultsModel

# Keys that drive the player while the results have focus (arrows stay with the grid).
PLAYER_KEYS = frozenset({Qt.Key.Key_Space, Qt.Key.Key_J, Qt.Key.Key_K, Qt.Key.Key_L, Qt.Key.Key_I, Qt.Key.Key_O})


class ResultsView(QListView):
    """Icon-mode list of result cards. Enter or double-click plays; dragging gives file URLs."""

    play_requested = Signal(object)  # Moment
    add_to_selects_requested = Signal(list, str)  # moments, collection name ("" = ask for a new one)
    export_requested = Signal(list, str)  # moments, format
    player_key_pressed = Signal(int, object)  # key, modifiers: J/K/L/Space/I/O go to the player
    more_like_requested = Signal(object)  # Moment: search by its own frames
    mark_requested = Signal(object, int)  # Moment, +1 relevant / -1 not relevant (again: clears)
    undo_mark_requested = Signal()  # Ctrl+Z: take back the last thumb

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsView")
        self.setModel(model)
        delegate = ResultCardDelegate(self)
        delegate.mark_clicked.connect(self.mark_requested)
        self.setItemDelegate(delegate)
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
        self.collection_names: list[str] = []  # for the "Add to collection" menu
        self.default_collection = ""  # where B adds (the Selects panel's current collection)

    def results_model(self) -> ResultsModel:
        model = self.model()
        assert isinstance(model, ResultsModel)
        return model

    def current_moment(self) -> Moment | None:
        return self.results_model().moment(self.currentIndex().row())

    def selected_moments(self) -> list[Moment]:
        """The selected cards in rank order, or the current one when nothing is selected."""
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        moments = [m for m in (self.results_model().moment(r) for r in rows) if m is not None]
        if not moments and (m := self.current_moment()) is not None:
            moments = [m]
        return moments

    def toggle_takes(self, index: QModelIndex) -> bool:
        """Show or hide the other takes of a card's shot, as cards right after it (each one playable)."""
        shown = self.results_model().toggle_takes(index.row())
        self.setCurrentIndex(self.results_model().index(index.row()))
        return shown

    def takes_badge_at(self, pos: QPoint) -> QModelIndex | None:
        """The card whose "N takes" badge is under `pos` (viewport coordinates), if any."""
        index = self.indexAt(pos)
        count = int(index.data(ResultsModel.TakesRole) or 0) if index.isValid() else 0
        if count and takes_badge_rect(self.visualRect(index), self.font(), count).contains(pos):
            return index
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.takes_badge_at(event.position().toPoint())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.toggle_takes(index)
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        plain = not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            m = self.current_moment()
            if m is not None:
                self.play_requested.emit(m)
                event.accept()
                return
        elif key == Qt.Key.Key_B and plain:
            moments = self.selected_moments()
            if moments:
                # The panel's collection, or the default one before the panel has loaded: B never
                # asks (an empty name opens the new-collection dialog, meant for the menu's New…).
                self.add_to_selects_requested.emit(moments, self.default_collection or "Selects")
            event.accept()
            return
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus) and plain:
            # + (or = without shift) marks the current card relevant, - not relevant.
            m = self.current_moment()
            if m is not None:
                self.mark_requested.emit(m, -1 if key == Qt.Key.Key_Minus else 1)
            event.accept()
            return
        elif key == Qt.Key.Key_Z and mods & Qt.KeyboardModifier.ControlModifier:
            self.undo_mark_requested.emit()
            event.accept()
            return
        elif key == Qt.Key.Key_T and plain:
            if self.currentIndex().isValid():
                self.toggle_takes(self.currentIndex())
            event.accept()
            return
        elif key in PLAYER_KEYS and plain:
            # Never a keyboard search in the grid, never typed anywhere: these drive the player.
            self.player_key_pressed.emit(int(key), mods)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyboardSearch(self, search: str) -> None:
        """No type-to-find: letters are editor keys here (B, J/K/L, I/O)."""

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The menu for one result (built separately from exec() so tests can trigger its actions)."""
        m = self.results_model().moment(index.row())
        if m is None:
            return None
        model = self.results_model()
        menu = QMenu(self)
        entries = [
            ("play", "Play moment", "play", lambda: self.play_requested.emit(m)),
            ("more_like", "More like this", "search", lambda: self.more_like_requested.emit(m)),
            (
                "mark_relevant",
                "Relevant\t+",
                "arrow-up",
                lambda: self.mark_requested.emit(m, 1),
            ),
            ("mark_irrelevant", "Not relevant\t-", "arrow-down", lambda: self.mark_requested.emit(m, -1)),
            ("undo_mark", "Undo last mark\tCtrl+Z", "", lambda: self.undo_mark_requested.emit()),
            ("reveal", "Reveal in file manager", "reveal", lambda: file_actions.reveal_in_file_manager(m.path)),
            ("copy_path", "Copy path", "copy", lambda: file_actions.copy_text(m.path)),
            (
                "copy_timecode",
                "Copy timecode",
                "copy",
                lambda: file_actions.copy_text(model.range_text(m)),
            ),
            ("open", "Open in default application", "open", lambda: file_actions.open_in_default_app(m.path)),
        ]
        for name, text, icon_name, fn in entries:
            action = QAction(theme.icon(icon_name), text, menu)
            action.setObjectName(f"action_{name}")
            action.triggered.connect(fn)
            menu.addAction(action)
            if name == "undo_mark":
                menu.addSeparator()
            if name == "play":
                self._add_takes_entry(menu, index)
                menu.addSeparator()
                self._add_selects_entries(menu)
                menu.addSeparator()
        return menu

    def _add_takes_entry(self, menu: QMenu, index: QModelIndex) -> None:
        count = int(index.data(ResultsModel.TakesRole) or 0)
        if not count:
            return
        shown = self.results_model().is_expanded(index.row())
        text = "Hide the other takes\tT" if shown else f"Show the {count - 1} other takes of this shot\tT"
        action = QAction(text, menu)
        action.setObjectName("action_takes")
        action.triggered.connect(lambda: self.toggle_takes(index))
        menu.addAction(action)

    def _add_selects_entries(self, menu: QMenu) -> None:
        moments = self.selected_moments()
        n = len(moments)
        what = "moment" if n == 1 else f"{n} moments"
        target = self.default_collection or "Selects"
        add = QAction(theme.icon("bin-add"), f"Add {what} to “{target}”\tB", menu)
        add.setObjectName("action_add_to_selects")
        add.triggered.connect(lambda: self.add_to_selects_requested.emit(moments, target))
        menu.addAction(add)
        sub = menu.addMenu(theme.icon("bin"), "Add to collection")
        sub.setObjectName("menu_add_to_collection")
        for name in self.collection_names:
            action = QAction(name, sub)
            action.setObjectName(f"action_add_to:{name}")
            action.triggered.connect(lambda _c=False, name=name: self.add_to_selects_requested.emit(moments, name))
            sub.addAction(action)
        new = QAction("New collection…", sub)
        new.setObjectName("action_add_to_new")
        new.triggered.connect(lambda: self.add_to_selects_requested.emit(moments, ""))
        sub.addAction(new)
        export = export_menu(menu, f"Export {what}", lambda fmt: self.export_requested.emit(moments, fmt))
        export.setObjectName("menu_export_selection")
        export.setIcon(theme.icon("export"))
        menu.addMenu(export)

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
