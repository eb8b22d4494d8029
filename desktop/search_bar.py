"""SearchBarWidget: text with -exclusions, weights and then-steps, dropped stills/clips as chips, filters."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from reelseek.core.types import Filters, Query
from reelseek.desktop import theme
from reelseek.desktop.media_kinds import DropKind, classify, local_paths
from reelseek.desktop.query_help import QueryHelpButton, syntax_error

DEBOUNCE_MS = 300

# (label, min seconds, max seconds) of the whole file; editors think in "short clip" vs "long take".
DURATIONS: list[tuple[str, float | None, float | None]] = [
    ("Any length", None, None),
    ("Under 30 s", None, 30.0),
    ("30 s – 5 min", 30.0, 300.0),
    ("Over 5 min", 300.0, None),
]


class ChipWidget(QFrame):
    """A dropped image or clip in the query; the × removes it."""

    removed = Signal(object)  # Path

    def __init__(self, path: Path, kind: DropKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Chip")
        self.path = path
        self.kind = kind
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 1, 2, 1)
        layout.setSpacing(3)
        icon = QLabel()
        icon.setPixmap(theme.icon("image" if kind is DropKind.IMAGE else "clip").pixmap(14, 14))
        label = QLabel(path.name)
        label.setObjectName("ChipLabel")
        label.setMaximumWidth(180)
        label.setToolTip(str(path))
        close = QToolButton()
        close.setObjectName("ChipClose")
        close.setIcon(theme.icon("close"))
        close.setIconSize(QSize(12, 12))
        close.setToolTip("Remove from the query")
        close.clicked.connect(lambda: self.removed.emit(self.path))
        self.close_button = close
        for w in (icon, label, close):
            layout.addWidget(w)


class SearchBarWidget(QWidget):
    """Emits ``search_requested(query, filters)`` after typing pauses, on Enter, or when chips or
    filters change; ``cleared()`` when there is nothing left to search for."""

    search_requested = Signal(object, object)  # Query, Filters
    cleared = Signal()
    rejected_drop = Signal(str)  # message for paths that are neither image nor video
    syntax_hint = Signal(str)  # what is wrong with half-typed syntax (the search waits for more keys)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SearchBar")
        self.setAcceptDrops(True)
        self._chips: list[ChipWidget] = []
        self.field = QLineEdit()
        self.field.setObjectName("SearchField")
        self.field.setPlaceholderText(
            "Describe a moment… e.g. red circle on grass -night   (or drop a still or a clip)"
        )
        self._tooltip = (
            "Words said, written on screen or subtitled are searched too.\n"
            '"quoted words" match as a phrase;  -word leaves it out;  2:"red car" weighs a term.\n'
            "car stops then door opens: one follows the other (then<5s> sets the gap).\n"
            'Only one source: said:"out of time"   written:SC 12   sub:hello   seen:red car'
        )
        self.field.setToolTip(self._tooltip)
        self.field.setClearButtonEnabled(True)
        self.field.textEdited.connect(self._on_field_text_edited)
        self.field.returnPressed.connect(self._on_field_return_pressed)
        self.field.setAcceptDrops(False)  # drops go to the bar, not into the text
        self.help_button = QueryHelpButton(self)
        self.chip_area = QHBoxLayout()
        self.chip_area.setSpacing(4)
        self.folder_combo = QComboBox()
        self.folder_combo.setToolTip("Only search in this folder")
        self.folder_combo.addItem("All folders", None)
        self.folder_combo.setMinimumWidth(140)
        self.folder_combo.currentIndexChanged.connect(self._on_filters_changed)
        self.duration_combo = QComboBox()
        self.duration_combo.setToolTip("Length of the whole file")
        for label, lo, hi in DURATIONS:
            self.duration_combo.addItem(label, (lo, hi))
        self.duration_combo.currentIndexChanged.connect(self._on_filters_changed)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.help_button)
        layout.addLayout(self.chip_area)
        layout.addWidget(self.folder_combo)
        layout.addWidget(self.duration_combo)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)

    # --- query state ------------------------------------------------------------------------

    def query(self) -> Query:
        images = tuple(c.path for c in self._chips if c.kind is DropKind.IMAGE)
        clips = tuple(c.path for c in self._chips if c.kind is DropKind.CLIP)
        return Query(text=self.field.text().strip(), images=images, clips=clips)

    def filters(self) -> Filters:
        folder = self.folder_combo.currentData()
        lo, hi = self.duration_combo.currentData() or (None, None)
        return Filters(folders=(folder,) if folder else (), min_duration=lo, max_duration=hi)

    def chips(self) -> list[ChipWidget]:
        return list(self._chips)

    def set_folders(self, folders: list[str]) -> None:
        """Refresh the folder filter, keeping the current choice when it still exists."""
        current = self.folder_combo.currentData()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem("All folders", None)
        for f in folders:
            self.folder_combo.addItem(Path(f).name or f, f)
            self.folder_combo.setItemData(self.folder_combo.count() - 1, f, Qt.ItemDataRole.ToolTipRole)
        i = self.folder_combo.findData(current) if current else 0
        self.folder_combo.setCurrentIndex(max(0, i))
        self.folder_combo.blockSignals(False)
        if current and i < 0:
            self._on_filters_changed()

    def add_media(self, path: Path, kind: DropKind) -> None:
        """Add a still or clip to the query and search right away."""
        if kind not in (DropKind.IMAGE, DropKind.CLIP):
            raise ValueError(f"{path.name} is not an image or a video")
        if any(c.path == path for c in self._chips):
            return
        chip = ChipWidget(path, kind, self)
        chip.removed.connect(self._on_chip_removed)
        self._chips.append(chip)
        self.chip_area.addWidget(chip)
        self.search_now()

    def search_now(self) -> None:
        self._debounce.stop()
        q = self.query()
        if q.is_empty():
            self.cleared.emit()
        else:
            self.search_requested.emit(q, self.filters())

    def stop(self) -> None:
        self._debounce.stop()

    def handle_drop_paths(self, paths: list[Path]) -> list[Path]:
        """Add the media among ``paths`` as chips; return the others (folders, non-media)."""
        rest: list[Path] = []
        for p in paths:
            kind = classify(p)
            if kind in (DropKind.IMAGE, DropKind.CLIP):
                self.add_media(p, kind)
            else:
                rest.append(p)
        return rest

    # --- events -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        rest = self.handle_drop_paths(local_paths(event.mimeData()))
        others = [p for p in rest if classify(p) is not DropKind.FOLDER]
        if others:
            self.rejected_drop.emit(_rejection(others))
        event.acceptProposedAction()

    @Slot(str)
    def _on_field_text_edited(self, _text: str) -> None:
        self._debounce.start()

    @Slot()
    def _on_field_return_pressed(self) -> None:
        self.search_now()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        # Half-typed syntax ("car stops then", an open quote) waits for the next keys; Enter
        # still searches, and the results page then says what is wrong.
        error = syntax_error(self.field.text())
        self.field.setProperty("invalid", error is not None)
        self.field.setToolTip(f"{error}\n\n{self._tooltip}" if error else self._tooltip)
        if error is None:
            self.search_now()
        else:
            self.syntax_hint.emit(error)

    @Slot()
    def _on_filters_changed(self) -> None:
        if not self.query().is_empty():
            self.search_now()

    @Slot(object)
    def _on_chip_removed(self, path: Path) -> None:
        for chip in [c for c in self._chips if c.path == path]:
            self._chips.remove(chip)
            chip.deleteLater()
        self.search_now()


def _rejection(paths: list[Path]) -> str:
    names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
    return (
        f"Can't search by {names}: drop a still image (JPEG, PNG, …) or a video clip, "
        "or a folder to add it to the library."
    )
