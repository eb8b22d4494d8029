"""ExportController: selects or results to an EDL / FCP7 XML / FCPXML / OTIO / CSV file, off the GUI thread."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.export import ExportClip

# (format, menu text, file-dialog filter): what each NLE imports.
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("edl", "CMX 3600 EDL (Resolve, Premiere, Avid)…", "EDL (*.edl)"),
    ("fcp7", "FCP7 XML (Premiere Pro, Resolve)…", "FCP7 XML (*.xml)"),
    ("fcpxml", "FCPXML (Final Cut Pro, Resolve)…", "FCPXML (*.fcpxml)"),
    ("otio", "OpenTimelineIO (.otio)…", "OpenTimelineIO (*.otio)"),
    ("csv", "CSV (spreadsheet, log sheet)…", "CSV (*.csv)"),
)
EXTENSIONS = {"edl": ".edl", "fcp7": ".xml", "fcpxml": ".fcpxml", "otio": ".otio", "csv": ".csv"}


def export_menu(parent: QWidget, title: str, on_format: object) -> QMenu:
    """A menu with one action per format (object names ``export_<fmt>``); ``on_format(fmt)`` runs."""
    menu = QMenu(title, parent)
    for fmt, text, _filter in FORMATS:
        action = QAction(text, menu)
        action.setObjectName(f"export_{fmt}")
        action.triggered.connect(lambda _checked=False, f=fmt: on_format(f))  # type: ignore[operator]
        menu.addAction(action)
    return menu


class ExportController(QObject):
    """Asks where to save, writes through ``reelseek.core.export`` on a worker thread, reports back."""

    finished = Signal(str, int)  # path written, clips in it
    failed = Signal(str)  # a readable message

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._runner = TaskRunner("export", max_threads=1, parent=self)
        self.handles = 0  # frames added before and after each clip (clamped to the media by core)
        self._last_dir = str(Path.home())

    def export(
        self,
        clips: Sequence[ExportClip],
        fmt: str,
        name: str = "reelseek selects",
        prepare: Callable[[list[ExportClip]], list[ExportClip]] | None = None,
    ) -> bool:
        """Ask for a destination and start the export; False if there was nothing to do or no file chosen.

        ``prepare`` runs on the worker thread before writing (the wiring adds frame sizes from the
        library there: a database read).
        """
        clips = list(clips)
        if not clips:
            self.failed.emit("Nothing to export: select some results or add items to the collection first.")
            return False
        ext = EXTENSIONS[fmt]
        label = next(f for key, _t, f in FORMATS if key == fmt)
        suggested = str(Path(self._last_dir) / f"{_safe_stem(name)}{ext}")
        path, _chosen = QFileDialog.getSaveFileName(self._parent, f"Export {len(clips)} clips", suggested, label)
        if not path:
            return False
        if not path.lower().endswith(ext):
            path += ext
        self._last_dir = str(Path(path).parent)
        handles = int(self.handles)

        def job() -> int:
            from reelseek.core.export import export

            ready = prepare(clips) if prepare is not None else clips
            planned = export(ready, fmt, path, handles=handles, name=name)
            return len(planned.clips)

        self._runner.run(job, result=lambda n: self.finished.emit(path, int(n)), error=self._on_error)
        return True

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self._runner.wait(timeout_ms)

    def shutdown(self) -> None:
        self._runner.shutdown()

    def _on_error(self, exc: BaseException) -> None:
        self.failed.emit(f"Export failed: {exc}" if str(exc) else f"Export failed ({type(exc).__name__})")


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^\w\- ]+", "_", name).strip() or "selects"
    return stem[:80]
