"""SettingsDialog: model, device, sampling rate, data location and thumbnail cache size."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from reelseek.core.models.device import DEVICE_CHOICES
from reelseek.core.paths import HOME_ENV
from reelseek.core.settings import DEFAULT_MAX_SAMPLE_EVERY, Settings

if TYPE_CHECKING:
    from reelseek.core.library import Library

HOME_KEY = "library/home"  # QSettings key: data location chosen in this dialog (used at next start)
_DEVICE_LABELS = {
    "auto": "Automatic (GPU when present)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}
DEVICES = [(_DEVICE_LABELS[d], d) for d in DEVICE_CHOICES]  # core's list, in core's order


def available_models() -> list[tuple[str, str]]:
    """(id, label) of the registry's models; empty when the registry cannot be read."""
    try:
        from reelseek.core.models import TEST_MODEL_ID, list_models
    except ImportError:
        return []
    out = []
    for spec in list_models():
        if spec.id == TEST_MODEL_ID:  # for tests only (set by --model or $REELSEEK_MODEL), not a choice to offer
            continue
        label = getattr(spec, "label", None) or getattr(spec, "description", None) or spec.id
        out.append((spec.id, f"{spec.id} — {label}" if label != spec.id else spec.id))
    return out


class SettingsDialog(QDialog):
    """Edits ``library.settings`` (saved by core as JSON) and the data location (QSettings)."""

    def __init__(
        self,
        library: Library,
        qsettings: QSettings,
        parent: QWidget | None = None,
        *,
        prune: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._prune = prune  # removes a model's vectors on the writer's thread (LibraryController)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._library = library
        self._qsettings = qsettings
        s = library.settings
        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(30)
        for mid, label in available_models():
            self.model_combo.addItem(label, mid)
        current_model = library.model_id()
        if self.model_combo.findData(current_model) < 0:
            self.model_combo.addItem(current_model, current_model)
        self.model_combo.setCurrentIndex(self.model_combo.findData(current_model))
        self.device_combo = QComboBox()
        for label, value in DEVICES:
            self.device_combo.addItem(label, value)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(s.device)))
        self.sample_spin = QDoubleSpinBox()
        self.sample_spin.setRange(0.1, 30.0)
        self.sample_spin.setSingleStep(0.25)
        self.sample_spin.setDecimals(2)
        self.sample_spin.setSuffix(" s between frames")
        self.sample_spin.setValue(float(s.sample_every))
        # Off (the default): one frame per keyframe where keyframes are at most 2 s apart, with
        # picture changes between them still sampled at the interval above (issue 11).
        self.strict_check = QCheckBox("Strict: exactly this interval on every file (slower on long-GOP footage)")
        self.strict_check.setChecked(s.max_sample_every is None)
        self.thumb_spin = QSpinBox()
        self.thumb_spin.setRange(16, 1_000_000)
        self.thumb_spin.setSingleStep(64)
        self.thumb_spin.setSuffix(" MB")
        self.thumb_spin.setValue(int(s.thumb_cache_mb))
        self.rescan_spin = QSpinBox()
        self.rescan_spin.setRange(10, 86_400)
        self.rescan_spin.setSuffix(" s")
        self.rescan_spin.setValue(int(s.rescan_interval_s))
        self.timecode_combo = QComboBox()
        self.timecode_combo.addItem("Source timecode (HH:MM:SS:FF)", "smpte")
        self.timecode_combo.addItem("Seconds from the start (HH:MM:SS.mmm)", "seconds")
        self.timecode_combo.setCurrentIndex(max(0, self.timecode_combo.findData(s.timecode_display)))
        self.takes_check = QCheckBox("Fold copies, re-encodes, trims and proxies of one shot into one card")
        self.takes_check.setChecked(bool(s.group_takes))
        self.home_edit = QLineEdit(str(qsettings.value(HOME_KEY, "") or library.paths.data))
        self.home_edit.setReadOnly(True)
        browse = QPushButton("Change…")
        browse.clicked.connect(self._on_browse_clicked)
        home_row = QHBoxLayout()
        home_row.addWidget(self.home_edit, 1)
        home_row.addWidget(browse)
        home_note = (
            "A new model re-indexes the library in the background; searches use the current one until it is "
            "done. Device and data location changes apply the next time reelseek starts."
        )
        if os.environ.get(HOME_ENV):
            home_note += f" ${HOME_ENV} is set and overrides the data location."
        self.note = QLabel(home_note)
        self.note.setObjectName("StepHint")
        self.note.setWordWrap(True)
        self.error_label = QLabel("")
        self.error_label.setObjectName("ModelMessage")
        self.error_label.setProperty("state", "error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Sampling", self.sample_spin)
        form.addRow("", self.strict_check)
        form.addRow("Thumbnail cache", self.thumb_spin)
        form.addRow("Rescan folders every", self.rescan_spin)
        form.addRow("Show times as", self.timecode_combo)
        form.addRow("Takes", self.takes_check)
        form.addRow("Data location", home_row)
        self.prune_buttons: dict[str, QPushButton] = {}
        for mid, label in self._old_models():
            row = QHBoxLayout()
            row.addWidget(QLabel(label), 1)
            button = QPushButton("Remove")
            button.setToolTip(f"Delete the vectors {mid} made (searches never use them now)")
            button.clicked.connect(lambda _=False, m=mid: self._on_prune_clicked(m))
            row.addWidget(button)
            self.prune_buttons[mid] = button
            form.addRow("Old model", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def edited_settings(self) -> Settings:
        return dataclasses.replace(
            self._library.settings,
            model_id=self.model_combo.currentData(),
            device=self.device_combo.currentData(),
            sample_every=round(self.sample_spin.value(), 3),
            max_sample_every=self._max_sample_every(),
            thumb_cache_mb=self.thumb_spin.value(),
            rescan_interval_s=self.rescan_spin.value(),
            timecode_display=self.timecode_combo.currentData(),
            group_takes=self.takes_check.isChecked(),
        )

    def _max_sample_every(self) -> float | None:
        if self.strict_check.isChecked():
            return None
        # Turning strict off restores the default; an earlier non-strict value is kept.
        return self._library.settings.max_sample_every or DEFAULT_MAX_SAMPLE_EVERY

    def _old_models(self) -> list[tuple[str, str]]:
        """(id, label) of models whose vectors are kept but unused (model_switch.ModelSwitch.prunable)."""
        from reelseek.core.model_switch import switch_state

        try:
            st = switch_state(self._library)
        except Exception:  # a library that cannot be read shows no prune rows, never a broken dialog
            return []
        return [(m, f"{m}: {st.vectors[m]} segments kept") for m in st.prunable]

    def _on_prune_clicked(self, model_id: str) -> None:
        from reelseek.core.model_switch import prune_model

        button = self.prune_buttons[model_id]
        button.setEnabled(False)
        button.setText("Removing…" if self._prune else "Removed")
        if self._prune is not None:
            self._prune(model_id)
            return
        try:
            prune_model(self._library, model_id)
        except Exception as exc:
            button.setText("Remove")
            button.setEnabled(True)
            self.error_label.setText(f"Not removed: {exc}")
            self.error_label.show()

    def accept(self) -> None:
        new = self.edited_settings()
        if new.model_id != self._library.model_id() and self._library.model_available(new.model_id):
            # A corrupt or unreadable file is refused now; the current model keeps serving.
            from reelseek.core.model_switch import check_model_readable
            from reelseek.core.models import ModelError

            try:
                check_model_readable(self._library, new.model_id)
            except ModelError as exc:
                self.error_label.setText(f"Model not changed: {exc}")
                self.error_label.show()
                return
        try:
            new.validate()
            for f in dataclasses.fields(new):
                setattr(self._library.settings, f.name, getattr(new, f.name))
            self._library.save_settings()
        except (ValueError, OSError) as exc:
            self.error_label.setText(f"Settings not saved: {exc}")
            self.error_label.show()
            return
        home = self.home_edit.text().strip()
        if home and home != str(self._library.paths.data):
            self._qsettings.setValue(HOME_KEY, home)
        self._qsettings.sync()
        super().accept()

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where reelseek keeps its library", self.home_edit.text())
        if folder:
            self.home_edit.setText(folder)
