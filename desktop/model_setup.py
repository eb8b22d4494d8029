"""ModelSetupWidget: get the search model's weights, by download (with progress, cancellable) or import."""

from __future__ import annotations

import socket
import threading
import urllib.error
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reelseek.desktop import theme
from reelseek.desktop.settings_dialog import available_models
from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.library import Library


def is_network_error(exc: BaseException) -> bool:
    """Whether a failure looks like 'no internet' rather than a bad file or a full disk."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, urllib.error.URLError | socket.gaierror | ConnectionError | TimeoutError | socket.timeout):
            return True
        if type(e).__name__ in ("ConnectError", "ConnectionError", "LocalEntryNotFoundError", "OfflineModeIsEnabled"):
            return True
        text = str(e).lower()
        if any(w in text for w in ("network", "internet", "resolve host", "name resolution", "unreachable", "offline")):
            return True
        e = e.__cause__ or e.__context__
    return False


def download_failure_message(exc: BaseException, model_id: str) -> str:
    if is_network_error(exc):
        return (
            f"Could not download {model_id}: this computer seems to have no internet connection. "
            "Download the weights file on a connected machine and bring it here with "
            "“Import weights file…”. Browsing and settings work without a model."
        )
    return f"Could not download {model_id}: {exc}"


# Multilingual models import as an archive holding the weights and their tokenizer files.
_IMPORT_FILTER = "Weights or archive (*.safetensors *.bin *.pt *.pth *.zip *.tar *.tar.gz *.tgz);;All files (*)"


class ModelSetupWidget(QWidget):
    """Model picker with Download / Cancel / Import. Emits ``model_ready`` once weights are on disk."""

    model_ready = Signal(str)  # model id
    # Emitted from the download thread, delivered queued. object, not int: sizes pass 2**31 bytes.
    _download_progress = Signal(object, object)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._runner = TaskRunner("model-setup", max_threads=1, parent=self)
        self._cancel = threading.Event()
        self._busy = False
        self.download_base_url: str | None = None  # None: the registry's hub; tests use a local server
        self.combo = QComboBox()
        # Registry descriptions are long; without this the combo would set the window's minimum width.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(24)
        for mid, label in available_models():
            self.combo.addItem(label, mid)
        current = library.model_id()
        if self.combo.findData(current) < 0:
            self.combo.addItem(current, current)
        self.combo.setCurrentIndex(self.combo.findData(current))
        self.combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        self.download_button = QPushButton(theme.icon("download"), "Download")
        self.download_button.setProperty("accent", True)
        self.download_button.clicked.connect(self.start_download)
        self.import_button = QPushButton(theme.icon("import"), "Import weights file…")
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("ModelProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.message = QLabel("")
        self.message.setObjectName("ModelMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self._download_progress.connect(self._on_self_download_progress)
        self.refresh()

    def selected_model(self) -> str:
        return str(self.combo.currentData())

    def select_model(self, model_id: str) -> bool:
        """Pick a registry model in the combo (e.g. from the language notice); False when it is not offered."""
        i = self.combo.findData(model_id)
        if i >= 0:
            self.combo.setCurrentIndex(i)
        return i >= 0

    def refresh(self) -> None:
        """Show whether the selected model's weights are already present."""
        mid = self.selected_model()
        try:
            ready = self._library.model_available(mid)
        except Exception as exc:
            self._set_message(str(exc), "error")
            return
        if ready:
            self._set_message(f"{mid} is ready. Searches run on this computer only.", "ok")
        elif not self._busy:
            self._set_message(
                f"{mid} is not on this computer yet. Download it (needs internet once) or import a weights file.",
                "",
            )
        self.download_button.setEnabled(not ready and not self._busy)

    def is_busy(self) -> bool:
        return self._busy

    def start_download(self) -> None:
        from reelseek.core.models import get_spec
        from reelseek.core.models.weights import download

        mid = self.selected_model()
        spec = get_spec(mid)
        models_dir = self._library.paths.models
        self._cancel = threading.Event()
        cancel, progress = self._cancel, self._download_progress
        extra = {"base_url": self.download_base_url} if self.download_base_url else {}
        self._set_busy(True, f"Downloading {mid}…")
        self._runner.run(
            lambda: download(
                spec, models_dir, progress=lambda done, total: progress.emit(done, total or 0), cancel=cancel, **extra
            ),
            result=lambda _r: self._on_download_done(mid),
            error=lambda exc: self._on_download_failed(mid, exc),
        )

    def cancel_download(self) -> None:
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self._set_message("Cancelling…", "")

    def import_file(self, file: str | Path) -> None:
        """Copy a local weights file into the model cache (off the GUI thread: files are large)."""
        from reelseek.core.models import get_spec
        from reelseek.core.models.weights import import_weights

        mid = self.selected_model()
        spec = get_spec(mid)
        models_dir = self._library.paths.models
        self._set_busy(True, f"Importing {Path(file).name}…")
        self.cancel_button.hide()
        self._runner.run(
            lambda: import_weights(Path(file), spec, models_dir),
            result=lambda _r: self._on_download_done(mid),
            error=lambda exc: self._finish(f"Could not import {Path(file).name}: {exc}", "error"),
        )

    def shutdown(self) -> None:
        self._cancel.set()
        self._runner.shutdown()

    # --- internals --------------------------------------------------------------------------

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.download_button.setEnabled(not busy)
        self.import_button.setEnabled(not busy)
        self.combo.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)  # indeterminate until the size is known
            self._set_message(text, "")

    def _set_message(self, text: str, state: str) -> None:
        self.message.setText(text)
        self.message.setProperty("state", state)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _finish(self, text: str, state: str) -> None:
        self._set_busy(False)
        self._set_message(text, state)
        self.download_button.setEnabled(state != "ok")

    def _on_download_done(self, mid: str) -> None:
        self._finish(f"{mid} is ready. Searches run on this computer only.", "ok")
        self.model_ready.emit(mid)

    def _on_download_failed(self, mid: str, exc: BaseException) -> None:
        if self._cancel.is_set():
            self._finish("Download cancelled. Nothing was kept; you can start again at any time.", "")
        else:
            self._finish(download_failure_message(exc, mid), "error")

    @Slot(object, object)
    def _on_self_download_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * done / total))
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:.1f} MB")

    @Slot(int)
    def _on_combo_current_index_changed(self, _i: int) -> None:
        self.refresh()

    @Slot()
    def _on_import_button_clicked(self) -> None:
        file, _ = QFileDialog.getOpenFileName(
            self,
            "Import model weights",
            str(Path.home()),
            _IMPORT_FILTER,
        )
        if file:
            self.import_file(file)
