"""FoldersWidget: the watched folders with their indexing state, and the library summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reelseek.desktop import theme
from reelseek.desktop.media_kinds import local_paths

if TYPE_CHECKING:
    from reelseek.core.library import FolderInfo
    from reelseek.core.types import LibraryStatus

PathRole = Qt.ItemDataRole.UserRole + 1


def describe_folder(info: FolderInfo) -> str:
    """Second line of a folder entry, e.g. ``12 of 14 indexed · 1 error``."""
    if not info.online:
        return f"offline · {info.files} files kept"
    parts = [f"{info.done} of {info.files} indexed" if info.files else "no videos yet"]
    if info.errors:
        parts.append(f"{info.errors} error" + ("s" if info.errors != 1 else ""))
    if info.offline:
        parts.append(f"{info.offline} offline")
    return " · ".join(parts)


class FoldersWidget(QWidget):
    """Side panel. Add (button or drop a folder), remove the selected folder."""

    add_clicked = Signal()
    folders_dropped = Signal(list)  # list[str]
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SidePanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAcceptDrops(True)
        title = QLabel("WATCHED FOLDERS")
        title.setObjectName("PanelTitle")
        self.add_button = self._tool("folder-add", "Add a footage folder…")
        self.add_button.clicked.connect(self.add_clicked)
        self.remove_button = self._tool("remove", "Stop watching the selected folder")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.remove_button.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.add_button)
        header.addWidget(self.remove_button)
        self.list = QListWidget()
        self.list.setObjectName("FolderList")
        self.list.setMinimumWidth(150)
        self.list.setIconSize(QSize(20, 20))
        self.list.setWordWrap(True)
        self.list.setAcceptDrops(False)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.empty_hint = QLabel("Drop a folder here or press + to add your footage.")
        self.empty_hint.setObjectName("StepHint")
        self.empty_hint.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setObjectName("StepHint")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        # What the confidence calibration found (core/calibration.py): why a query says "no good match".
        self.calibration = QLabel("")
        self.calibration.setObjectName("StepHint")
        self.calibration.setWordWrap(True)
        layout.addWidget(self.calibration)

    def _tool(self, icon_name: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(theme.icon(icon_name))
        b.setIconSize(QSize(18, 18))
        b.setToolTip(tip)
        return b

    def set_folders(self, folders: Sequence[FolderInfo]) -> None:
        selected = self.selected_folder()
        self.list.clear()
        for info in folders:
            name = Path(info.path).name or info.path
            item = QListWidgetItem(theme.icon("folder" if info.online else "folder-offline"), "")
            item.setText(f"{name}\n{describe_folder(info)}")
            item.setToolTip(info.path)
            item.setData(PathRole, info.path)
            self.list.addItem(item)
            if info.path == selected:
                self.list.setCurrentItem(item)
        self.empty_hint.setVisible(not folders)

    def set_status(self, status: LibraryStatus) -> None:
        done = status.counts.get("done", 0)
        total = sum(status.counts.values())
        pending = status.counts.get("pending", 0) + status.counts.get("indexing", 0)
        text = f"{done} of {total} videos searchable"
        if pending:
            text += f" · {pending} waiting"
        self.summary.setText(text)
        self.calibration.setText(calibration_text(status.calibration))
        self.calibration.setToolTip(calibration_tooltip(status.calibration))

    def folder_paths(self) -> list[str]:
        return [self.list.item(i).data(PathRole) for i in range(self.list.count())]

    def selected_folder(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PathRole) if item is not None else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(p.is_dir() for p in local_paths(event.mimeData())):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [str(p) for p in local_paths(event.mimeData()) if p.is_dir()]
        if folders:
            self.folders_dropped.emit(folders)
            event.acceptProposedAction()

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        path = self.selected_folder()
        if path:
            self.remove_requested.emit(path)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_item_changed(self, current: QListWidgetItem | None, _prev: object) -> None:
        self.remove_button.setEnabled(current is not None)


def calibration_text(cal: dict[str, object] | None) -> str:
    """One line for the side panel: the match threshold the library's null queries set."""
    if not cal:
        return ""
    return (
        f"Match threshold {float(cal['null_ceiling']):.3f} above background "  # type: ignore[arg-type]
        f"({cal['null_queries']} unrelated queries, {cal['sample_frames']} frames)"
    )


def calibration_tooltip(cal: dict[str, object] | None) -> str:
    if not cal:
        return "Not calibrated yet: search confidence is calibrated after the first index run."
    return (
        "Confidence calibration for this library and model\n"
        f"Unrelated (null) queries reach {float(cal['null_ceiling']):.4f} above their own background "  # type: ignore[arg-type]
        f"(median {cal['null_gap_median']}, max {cal['null_gap_max']}); a moment must beat that to be a good match.\n"
        f"Frame background {cal['background']} over {cal['sample_frames']} sampled frames; "
        f"library generation {cal['generation']}, {cal['segments']} segments; model {cal['model']}."
    )
