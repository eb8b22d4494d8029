"""LibraryController: folder changes (through the index worker) and library reads, with coalesced refreshes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.library import FolderInfo, Library

log = logging.getLogger(__name__)
REFRESH_MS = 700  # while files finish indexing, refresh the side panel at most this often


class Writer(Protocol):
    """Where library writes run: the IndexWorker's thread (see IndexWorker.submit)."""

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        result: Callable[[Any], None] | None = None,
        error: Callable[[BaseException], None] | None = None,
        anytime: bool = False,
    ) -> None: ...


class LibraryController(QObject):
    """Adds and removes watched folders and reads folders/status for the side panel.

    Writes never run here: they go to the writer (the index worker's thread), in order, so a
    folder added and then removed is not removed first, and no folder change overlaps an index
    run that is still unwinding. Reads run on this controller's own single thread.
    """

    refreshed = Signal(object, object)  # list[FolderInfo], LibraryStatus
    folders_added = Signal(list)  # list[str]
    folder_removed = Signal(str)
    model_pruned = Signal(str, int)  # model id, segments removed
    failed = Signal(str)  # a message for the editor

    def __init__(self, library: Library, writer: Writer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._writer = writer
        self._runner = TaskRunner("library", max_threads=1, parent=self)
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def folders_now(self) -> list[FolderInfo]:
        """Synchronous read for the window's first layout (cheap: one query per folder)."""
        return self._library.folders()

    def add_folders(self, paths: Sequence[str | Path]) -> None:
        folders = [str(p) for p in paths]
        library = self._library

        def add() -> list[str]:
            for p in folders:
                library.add_folder(p)
            return folders

        # Adding rows never disturbs a run in progress: it may go between two of its batches.
        self._writer.submit(add, result=self.folders_added.emit, error=self._on_error, anytime=True)

    def remove_folder(self, path: str) -> None:
        library = self._library
        # Waits for the current run to end (the caller cancels it): its files are being deleted.
        self._writer.submit(
            lambda: library.remove_folder(path),
            result=lambda _r: self.folder_removed.emit(path),
            error=self._on_error,
        )

    def prune_model(self, model_id: str) -> None:
        """Remove one model's vectors (core/model_switch.prune_model) on the writer's thread;
        ``model_pruned`` or ``failed`` follows, then a refresh."""
        from reelseek.core.model_switch import prune_model

        library = self._library

        def done(n: object) -> None:
            self.model_pruned.emit(model_id, int(n))  # type: ignore[call-overload]
            self.refresh()

        self._writer.submit(lambda: prune_model(library, model_id), result=done, error=self._on_error)

    def refresh(self) -> None:
        """Re-read folders and status now (off the GUI thread); ``refreshed`` follows."""
        if self._closed:
            return
        library = self._library
        self._runner.run(
            lambda: (library.folders(), library.status()),
            result=lambda data: self.refreshed.emit(*data),
            error=lambda exc: log.warning("library refresh failed: %s", exc),
        )

    def refresh_soon(self) -> None:
        """Coalesce bursts (one refresh per REFRESH_MS while files keep finishing)."""
        if not self._closed and not self._timer.isActive():
            self._timer.start()

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        self._runner.shutdown()

    def _on_error(self, exc: BaseException) -> None:
        self.failed.emit(str(exc) or type(exc).__name__)
