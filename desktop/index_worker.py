"""The one long-lived indexing worker: owns the Library's indexing on its own QThread."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from reelseek.desktop.warmup import load_model_gently

if TYPE_CHECKING:
    from reelseek.core.library import Library
    from reelseek.core.types import IndexProgress

log = logging.getLogger(__name__)

IDLE, LOADING, SCANNING, INDEXING, PAUSED = "idle", "loading", "scanning", "indexing", "paused"


class IndexWorker(QObject):
    """Runs ``Library.index()`` (or ``scan()`` while there is no model) on a dedicated thread.

    Requests coalesce: asking for a run while one is going queues exactly one more run covering
    every folder asked for in the meantime. Pause, resume and cancel go through
    ``threading.Event`` objects that core checks between batches; the thread is never terminated.

    The thread is a QThread whose ``run()`` is this worker's loop, rather than a QObject moved to
    a QThread and driven by queued slots: torch's pybind11 GIL handling crashed (segfault in
    ``gil_scoped_acquire``) when the model ran inside slots that PySide dispatches from a QThread's
    event loop, each with a short-lived Python thread state. One ``run()`` keeps one thread state
    for the thread's whole life. The worker object stays on the GUI thread, so every signal it
    emits from the loop reaches GUI slots queued, lambdas included.
    """

    progress = Signal(object)  # IndexProgress
    file_done = Signal(str)  # a file finished; carries the file core last reported as current
    error = Signal(str, str)  # (path or "", reason)
    finished = Signal(object)  # IndexReport, or None when the run failed as a whole
    state_changed = Signal(str)  # idle | loading | scanning | indexing | paused
    model_loaded = Signal()

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._pause = threading.Event()  # set = paused (core waits between batches)
        self._cancel = threading.Event()
        self._wake = threading.Condition()
        self._queued = False
        self._queued_all = False
        self._queued_paths: set[str] = set()
        self._queued_embed = False
        self._stopping = False
        self._model_ready = False
        self._last_done = 0
        self._last_current: str | None = None
        self._state = IDLE
        self._thread = _LoopThread(self._loop)
        self._thread.setObjectName("reelseek-index-worker")
        self._thread.start(QThread.Priority.LowPriority)

    # --- called from the GUI thread ---------------------------------------------------------

    def request_index(self, paths: Iterable[str] | None = None, *, embed: bool = True) -> None:
        """Scan ``paths`` (None: every watched folder) and, with ``embed`` and a model, embed new files."""
        with self._wake:
            if self._stopping:
                return
            if paths is None:
                self._queued_all = True
            else:
                self._queued_paths.update(str(p) for p in paths)
            self._queued_embed = self._queued_embed or embed
            self._queued = True
            self._wake.notify()

    def pause(self) -> None:
        self._pause.set()
        if self._state in (INDEXING, SCANNING):
            self._set_state(PAUSED)

    def resume(self) -> None:
        self._pause.clear()
        if self._state == PAUSED:
            self._set_state(INDEXING)

    def is_paused(self) -> bool:
        return self._pause.is_set()

    def state(self) -> str:
        return self._state

    def cancel_current(self) -> None:
        """Stop the running pass after its current batch (queued requests still run)."""
        self._cancel.set()
        self._pause.clear()

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Cancel, drop queued work and end the thread; True when it ended in time."""
        with self._wake:
            self._stopping = True
            self._queued = False
            self._wake.notify()
        self._cancel.set()
        self._pause.clear()  # a paused run must wake up to see the cancel
        ended = self._thread.wait(timeout_ms)
        if not ended:
            log.error("index worker did not stop within %d ms", timeout_ms)
        return bool(ended)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    # --- worker thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        _lower_priority()
        while True:
            with self._wake:
                while not self._queued and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                paths = None if self._queued_all else sorted(self._queued_paths)
                embed = self._queued_embed
                self._queued = self._queued_all = self._queued_embed = False
                self._queued_paths = set()
                self._cancel.clear()
            self._run_once(paths, embed)

    def _run_once(self, paths: list[str] | None, embed: bool) -> None:
        report = None
        try:
            if embed and self._library.model_available():
                if not self._model_ready:
                    self._set_state(LOADING)
                # Every run: after a model change in the settings this loads the new one.
                load_model_gently(self._library)
                if not self._model_ready:
                    self._model_ready = True
                    self.model_loaded.emit()
                self._last_done, self._last_current = 0, None
                self._set_state(PAUSED if self._pause.is_set() else SCANNING)
                report = self._library.index(
                    paths, progress=self._on_library_progress, cancel=self._cancel, pause=self._pause
                )
            else:
                self._set_state(SCANNING)
                report = self._library.scan(paths)
        except Exception as exc:
            log.exception("indexing failed")
            self.error.emit("", str(exc) or type(exc).__name__)
        if report is not None:
            for path, reason in report.errors:
                self.error.emit(path, reason)
        self._set_state(IDLE)  # before finished: a slot on finished sees the worker idle
        self.finished.emit(report)

    def _on_library_progress(self, p: IndexProgress) -> None:
        # Called by core on this thread between batches; signals carry it to the GUI thread.
        if p.files_done > self._last_done and self._last_current:
            self.file_done.emit(self._last_current)
        self._last_done, self._last_current = p.files_done, p.current
        if p.phase in ("indexing", "scanning", "words") and self._state not in (PAUSED,):
            self._set_state(SCANNING if p.phase == "scanning" else INDEXING)
        self.progress.emit(p)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)


class _LoopThread(QThread):
    """A QThread whose run() is a Python function (see IndexWorker for why)."""

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__()
        self._target = target

    def run(self) -> None:
        self._target()


def _lower_priority() -> None:
    # Indexing is background work: on a busy 2-core laptop the GUI thread must win the CPU.
    # QThread priorities do nothing for Linux's default scheduler, so raise this thread's nice
    # value too; the decode and torch threads it starts inherit it.
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except OSError as exc:
            log.debug("could not lower the indexing thread's priority: %s", exc)
