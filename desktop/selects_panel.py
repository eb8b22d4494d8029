"""SelectsPanel: the bins of selects: pick a collection, reorder, trim, annotate, remove, play, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reelseek.core.timecode import format_time
from reelseek.core.types import Moment
from reelseek.desktop import theme
from reelseek.desktop.export_controller import export_menu
from reelseek.desktop.selects_store import DEFAULT_COLLECTION, SelectsStore

if TYPE_CHECKING:
    from reelseek.core.selects import CollectionInfo, SelectItem

ItemRole = Qt.ItemDataRole.UserRole + 1


def item_moment(it: SelectItem) -> Moment:
    """A select as a Moment the player can open (its range is the item's in/out)."""
    return it.to_moment()


class _ItemList(QListWidget):
    """Items of one collection; drag to reorder, Delete removes, Enter plays."""

    order_changed = Signal()
    delete_pressed = Signal()
    play_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SelectsList")
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setSpacing(3)
        self.setAlternatingRowColors(True)
        self.model().rowsMoved.connect(lambda *_a: self.order_changed.emit())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_pressed.emit()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.play_pressed.emit()
        else:
            super().keyPressEvent(event)


class SelectsPanel(QWidget):
    """Lives in a dock. Reads and writes only through its SelectsStore."""

    play_requested = Signal(object)  # Moment
    export_requested = Signal(list, str, str)  # items, format, collection name

    def __init__(self, store: SelectsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SelectsPanel")
        self.store = store
        self._names: list[str] = []
        self._items: list[SelectItem] = []
        self._mode = "smpte"
        self.combo = QComboBox()
        self.combo.setObjectName("CollectionCombo")
        self.combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        self.new_button = self._tool("add", "New collection…", self.new_collection)
        self.rename_button = self._tool("rename", "Rename the collection…", self.rename_collection)
        self.delete_button = self._tool("close", "Delete the collection…", self.delete_collection)
        self.export_button = self._tool("export", "Export the collection (EDL, XML, OTIO, CSV)", lambda: None)
        self.export_menu = export_menu(self, "Export", self._on_export_format)
        self.export_button.setMenu(self.export_menu)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.handles_spin = QSpinBox()
        self.handles_spin.setRange(0, 10_000)
        self.handles_spin.setSuffix(" fr handles")
        self.handles_spin.setToolTip("Frames added before and after each clip on export (clamped to the media)")
        self.list = _ItemList(self)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.list.itemDoubleClicked.connect(lambda _it: self.play_current())
        self.list.order_changed.connect(self._on_list_order_changed)
        self.list.delete_pressed.connect(self.remove_current)
        self.list.play_pressed.connect(self.play_current)
        self.up_button = self._tool("arrow-up", "Move up", lambda: self.move_current(-1))
        self.down_button = self._tool("arrow-down", "Move down", lambda: self.move_current(1))
        self.remove_button = self._tool("remove", "Remove from the collection (Delete)", self.remove_current)
        self.in_edit = QLineEdit()
        self.out_edit = QLineEdit()
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("A note for the editor…")
        for edit in (self.in_edit, self.out_edit):
            edit.setPlaceholderText("HH:MM:SS:FF")
            edit.editingFinished.connect(self._on_trim_edited)
        self.note_edit.editingFinished.connect(self._on_note_edited)
        self.message = QLabel("")
        self.message.setObjectName("StepHint")
        self.message.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.combo, 1)
        for b in (self.new_button, self.rename_button, self.delete_button, self.export_button):
            top.addWidget(b)
        row = QHBoxLayout()
        for b in (self.up_button, self.down_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.handles_spin)
        form = QFormLayout()
        form.addRow("In", self.in_edit)
        form.addRow("Out", self.out_edit)
        form.addRow("Note", self.note_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addLayout(form)
        layout.addWidget(self.message)
        store.collections_changed.connect(self._on_store_collections_changed)
        store.items_changed.connect(self._on_store_items_changed)
        store.failed.connect(self.message.setText)
        self._update_enabled()

    def _tool(self, icon: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(theme.icon(icon))
        b.setIconSize(QSize(18, 18))
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # --- public API -------------------------------------------------------------------------

    def current_collection(self) -> str:
        """The collection shown (where B adds), or the default name when there is none yet."""
        return self.combo.currentData() or DEFAULT_COLLECTION

    def collection_names(self) -> list[str]:
        return list(self._names)

    def items(self) -> list[SelectItem]:
        return list(self._items)

    def current_item(self) -> SelectItem | None:
        row = self.list.currentRow()
        return self._items[row] if 0 <= row < len(self._items) else None

    def set_timecode_mode(self, mode: str) -> None:
        self._mode = mode
        self._fill_items(self._items)

    def new_collection(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "New collection", "Name:")
            if not ok:
                return
        self._want = name.strip()
        self.store.create(name)

    def rename_collection(self, new_name: str | None = None) -> None:
        old = self.combo.currentData()
        if not old:
            return
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, "Rename collection", "New name:", text=old)
            if not ok:
                return
        self._want = new_name.strip()
        self.store.rename(old, new_name)

    def delete_collection(self, confirm: bool = True) -> None:
        name = self.combo.currentData()
        if not name:
            return
        if confirm:
            text = f"Delete “{name}” and its {len(self._items)} items?"
            answer = QMessageBox.question(self, "Delete collection", text)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.delete(name)

    def move_current(self, delta: int) -> None:
        row = self.list.currentRow()
        target = row + delta
        if not (0 <= row < len(self._items)) or not (0 <= target < len(self._items)):
            return
        ids = [it.id for it in self._items]
        ids.insert(target, ids.pop(row))
        self._select_id = ids[target]
        self.store.reorder(self.current_collection(), ids)

    def remove_current(self) -> None:
        it = self.current_item()
        if it is not None:
            self.store.remove(self.current_collection(), it.id)

    def play_current(self) -> None:
        it = self.current_item()
        if it is not None:
            self.play_requested.emit(item_moment(it))

    # --- store answers ----------------------------------------------------------------------

    _want = ""  # a collection to show once it exists (just created or renamed)
    _select_id = -1  # an item to keep selected across a reload
    _items_of: str | None = None  # the collection whose items the list shows

    @Slot(list)
    def _on_store_collections_changed(self, infos: list[CollectionInfo]) -> None:
        current = self._want or self.combo.currentData()
        self._want = ""
        self._names = [i.name for i in infos]
        self.combo.blockSignals(True)
        self.combo.clear()
        for i in infos:
            self.combo.addItem(f"{i.name} ({i.count})", i.name)
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else (0 if infos else -1))
        self.combo.blockSignals(False)
        shown = self.combo.currentData()
        if not shown:
            self._items_of = None
            self._fill_items([])
        elif shown != self._items_of:
            self.store.refresh(shown)
        self._update_enabled()

    @Slot(str, list)
    def _on_store_items_changed(self, name: str, items: list[SelectItem]) -> None:
        if name == self.combo.currentData():
            self._items_of = name
            self._fill_items(items)

    # --- widgets ----------------------------------------------------------------------------

    def _fill_items(self, items: list[SelectItem]) -> None:
        keep = self._select_id if self._select_id >= 0 else (self.current_item().id if self.current_item() else -1)
        self._select_id = -1
        self._items = list(items)
        self.list.blockSignals(True)
        self.list.clear()
        for n, it in enumerate(self._items, 1):
            tc_in = format_time(it.in_s, it.clock, self._mode)
            tc_out = format_time(it.out_s, it.clock, self._mode)
            text = f"{n}. {it.name}{'  (offline)' if it.offline else ''}\n{tc_in} – {tc_out}  · {it.rate.label} fps"
            if it.note:
                text += f"\n“{it.note}”"
            row = QListWidgetItem(text)
            row.setData(ItemRole, it.id)
            row.setToolTip(it.display)
            self.list.addItem(row)
        self.list.blockSignals(False)
        ids = [it.id for it in self._items]
        self.list.setCurrentRow(ids.index(keep) if keep in ids else (0 if ids else -1))
        self._on_list_current_row_changed(self.list.currentRow())
        self._update_enabled()

    def _update_enabled(self) -> None:
        has_collection = bool(self.combo.currentData())
        for b in (self.rename_button, self.delete_button):
            b.setEnabled(has_collection)
        self.export_button.setEnabled(bool(self._items))
        has_item = self.current_item() is not None
        for w in (self.up_button, self.down_button, self.remove_button, self.in_edit, self.out_edit, self.note_edit):
            w.setEnabled(has_item)

    @Slot(int)
    def _on_combo_current_index_changed(self, _index: int) -> None:
        self.store.refresh(self.combo.currentData())
        self._update_enabled()

    @Slot(int)
    def _on_list_current_row_changed(self, _row: int) -> None:
        it = self.current_item()
        self.in_edit.setText(format_time(it.in_s, it.clock, self._mode) if it else "")
        self.out_edit.setText(format_time(it.out_s, it.clock, self._mode) if it else "")
        self.note_edit.setText(it.note if it else "")
        self._update_enabled()

    @Slot()
    def _on_list_order_changed(self) -> None:
        ids = [self.list.item(r).data(ItemRole) for r in range(self.list.count())]
        if ids != [it.id for it in self._items]:
            self.store.reorder(self.current_collection(), ids)

    @Slot()
    def _on_trim_edited(self) -> None:
        it = self.current_item()
        if it is None:
            return
        try:
            lo = _parse_time(self.in_edit.text(), it, self._mode)
            hi = _parse_time(self.out_edit.text(), it, self._mode)
        except ValueError as exc:
            self.message.setText(f"Not a time: {exc}")
            return
        if abs(lo - it.in_s) > 1e-6 or abs(hi - it.out_s) > 1e-6:
            self.message.setText("")
            self.store.trim(self.current_collection(), it.id, lo, hi)

    @Slot()
    def _on_note_edited(self) -> None:
        it = self.current_item()
        if it is not None and self.note_edit.text() != it.note:
            self.store.annotate(self.current_collection(), it.id, self.note_edit.text())

    def _on_export_format(self, fmt: str) -> None:
        self.export_requested.emit(self.items(), fmt, self.current_collection())


def _parse_time(text: str, it: SelectItem, mode: str) -> float:
    """A source timecode (``01:00:10:05``) or, in seconds mode, ``HH:MM:SS.mmm`` / plain seconds."""
    text = text.strip()
    if mode == "seconds" or text.count(":") < 3:
        parts = [float(p) for p in text.split(":")]
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + p
        return seconds
    return float(it.clock.seconds(text))
