"""Offer to repair a damaged library when it is opened: runs `doctor --repair` off the GUI thread."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from reelseek.core.errors import LibraryDamaged
from reelseek.desktop.tasks import TaskRunner


class RepairDialog(QDialog):
    """Says what is wrong and offers Repair (restore the newest backup, rebuild the index,
    re-queue lost files) or Quit. Accepted once the repair succeeded."""

    def __init__(
        self, damage: LibraryDamaged, home: str | os.PathLike[str] | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("reelseek: the library needs repair")
        self._home = home
        self._runner = TaskRunner("repair", max_threads=1, parent=self)
        self.message = QLabel(str(damage).replace("; run `reelseek-cli doctor --repair`", ""))
        self.message.setWordWrap(True)
        self.outcome = QLabel(
            "Repair restores the newest good backup (the damaged file is kept), rebuilds the search "
            "index and queues files whose entries were lost for indexing."
            if damage.repairable
            else "There is no backup to restore: Repair starts a new library; add your folders again."
        )
        self.outcome.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.repair_button = self.buttons.addButton("Repair", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.repair)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)

    def repair(self) -> None:
        from reelseek.core.doctor import repair

        self.buttons.setEnabled(False)
        self.outcome.setText("Repairing...")
        home = self._home
        self._runner.run(lambda: repair(home), result=self._repaired, error=self._failed)

    def _repaired(self, report: object) -> None:
        self.actions = list(getattr(report, "actions", []))
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.outcome.setText(f"Repair failed: {exc}")
        self.buttons.setEnabled(True)
        self.repair_button.setEnabled(False)

    def done(self, result: int) -> None:
        self._runner.shutdown()
        super().done(result)


def offer_repair(damage: LibraryDamaged, home: str | os.PathLike[str] | None) -> bool:
    """Show the dialog; True when the library was repaired and can be opened again."""
    return RepairDialog(damage, home).exec() == QDialog.DialogCode.Accepted
