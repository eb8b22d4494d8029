"""IndexStatusWidget (status bar) and ErrorListDialog: indexing progress, pause/resume, errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reelseek.core.timecode import eta_text
from reelseek.core.types import IndexPhase
from reelseek.desktop import file_actions, theme
from reelseek.desktop.index_worker import WorkerState

if TYPE_CHECKING:
    from reelseek.core.types import IndexProgress


def progress_text(p: IndexProgress) -> str:
    """``Indexing beach.mp4 · 3 of 12 · 14.2 video-s/s · ETA 0:42``."""
    if p.phase == IndexPhase.SCANNING:
        return "Scanning folders…"
    if p.phase == IndexPhase.WORDS:  # the words pass after the visual one: subtitles, speech, on-screen text
        name = Path(p.current).name if p.current else ""
        n = min(p.files_total, p.files_done + (1 if p.current else 0))
        return " · ".join([f"Reading words in {name}" if name else "Reading words", f"{n} of {p.files_total}"])
    name = Path(p.current).name if p.current else ""
    n = min(p.files_total, p.files_done + (1 if p.current else 0))
    parts = [f"Indexing {name}" if name else "Indexing", f"{n} of {p.files_total}"]
    parts.append(f"{p.rate:.1f} video-s/s")
    parts.append(eta_text(p.eta))
    if p.switch:  # "new model X 43%": searches keep the old model until the new one covers all
        parts.append(p.switch)
    return " · ".join(parts)


class IndexStatusWidget(QWidget):
    """Progress of the indexing worker, a pause/resume toggle and the error count."""

    pause_toggled = Signal(bool)  # True = pause
    errors_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel("Ready")
        self.text.setObjectName("IndexStatusText")
        self.text.setMinimumWidth(120)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setFixedHeight(8)
        self.bar.setTextVisible(False)
        self.bar.setRange(0, 1000)
        self.bar.hide()
        # While a new model is indexed beside the old one: "New model X 43% · searching with Y".
        self.switch_label = QLabel("")
        self.switch_label.setObjectName("ModelSwitchText")
        self.switch_label.hide()
        self.pause_button = QToolButton()
        self.pause_button.setCheckable(True)
        self.pause_button.setIcon(theme.icon("pause"))
        self.pause_button.setIconSize(QSize(14, 14))
        self.pause_button.setToolTip("Pause indexing")
        self.pause_button.toggled.connect(self._on_pause_button_toggled)
        self.pause_button.hide()
        self.errors_button = QToolButton()
        self.errors_button.setIcon(theme.icon("error"))
        self.errors_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.errors_button.setIconSize(QSize(14, 14))
        self.errors_button.setToolTip("Files that could not be indexed, and why")
        self.errors_button.clicked.connect(self.errors_clicked)
        self.errors_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(8)
        layout.addWidget(self.errors_button)
        layout.addWidget(self.text)
        layout.addWidget(self.switch_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.pause_button)

    def show_progress(self, p: IndexProgress) -> None:
        self.text.setText(("Paused · " if self.pause_button.isChecked() else "") + progress_text(p))
        if p.video_seconds_total > 0:
            self.bar.setValue(round(1000 * p.video_seconds_done / p.video_seconds_total))
        elif p.files_total:
            self.bar.setValue(round(1000 * p.files_done / p.files_total))
        self.bar.show()
        self.pause_button.show()

    def show_switch(self, models: dict[str, object]) -> None:
        """The model switch from ``LibraryStatus.models`` (core/model_switch.py); hidden when none."""
        if models.get("switching"):
            self.switch_label.setText(
                f"New model {models['target']} {models['percent']}% · searching with {models['serving']}"
            )
            self.switch_label.setToolTip(
                "Searches keep using the old model until the new one has indexed every file; "
                "then they switch on their own. Settings ▸ Remove frees the old model's space."
            )
            self.switch_label.show()
        else:
            self.switch_label.hide()

    def show_state(self, state: str) -> None:
        busy = state != WorkerState.IDLE
        self.pause_button.setVisible(busy)
        self.bar.setVisible(busy and state in (WorkerState.INDEXING, WorkerState.PAUSED))
        if state == WorkerState.IDLE:
            self.text.setText("Library up to date")
        elif state == WorkerState.LOADING:
            self.text.setText("Loading the model…")
        elif state == WorkerState.SCANNING and not self.pause_button.isChecked():
            self.text.setText("Scanning folders…")
        elif state == WorkerState.PAUSED:
            self.text.setText("Paused · " + self.text.text().removeprefix("Paused · "))

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self._update_pause_icon(paused)

    def set_error_count(self, n: int) -> None:
        self.errors_button.setText(f"{n} error" + ("s" if n != 1 else ""))
        self.errors_button.setVisible(n > 0)

    def _update_pause_icon(self, paused: bool) -> None:
        self.pause_button.setIcon(theme.icon("play" if paused else "pause"))
        self.pause_button.setToolTip("Resume indexing" if paused else "Pause indexing")

    @Slot(bool)
    def _on_pause_button_toggled(self, paused: bool) -> None:
        self._update_pause_icon(paused)
        self.pause_toggled.emit(paused)


class ErrorListDialog(QDialog):
    """Every file that failed, with the reason, copyable for a bug report."""

    def __init__(self, errors: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Indexing errors")
        self.resize(760, 360)
        self._errors = list(errors)
        self.table = QTableWidget(len(errors), 2)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, (path, reason) in enumerate(errors):
            name = QTableWidgetItem(Path(path).name if path else "(library)")
            name.setToolTip(path)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(reason))
        heading = QLabel(
            f"{len(errors)} file(s) could not be indexed. The rest of the library is searchable; "
            "fix or remove these files and they are picked up on the next scan."
        )
        heading.setWordWrap(True)
        copy = QPushButton(theme.icon("copy"), "Copy all")
        copy.clicked.connect(self._on_copy_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def as_text(self) -> str:
        return "\n".join(f"{path}\t{reason}" for path, reason in self._errors)

    @Slot()
    def _on_copy_clicked(self) -> None:
        file_actions.copy_text(self.as_text())
