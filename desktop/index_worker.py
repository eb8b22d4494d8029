"""The one long-lived indexing worker: owns the Library's indexing on its own QThread."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal

from reelseek.core.types import IndexPhase, StrEnum
from reelseek.desktop.warmup import load_model_gently

if TYPE_CHECKING:
    from reelseek.core.library import Library
    from reelseek.core.types import IndexProgress

log = logging.getLogger(__name__)


class WorkerState(StrEnum):
    """What the worker is doing, as ``state_changed`` carries it (a plain str across Qt)."""

    IDLE = "idle"
    LOADING = "loading"
    SCANNING = "scanning"
    INDEXING = "indexing"
    PAUSED = "paused"


@dataclass
class _Command:
    """A library write queued for the worker thread; its outcome goes back through ``command_done``."""

    fn: Callable[[], Any]
    on_result: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    anytime: bool  # may run between two batches of an index run


class IndexWorker(QObject):
    """Runs ``Library.index()`` (or ``scan()`` while there is no model) on a dedicated thread.

    Requests coalesce: asking for a run while one is going queues exactly one more run covering
    every folder asked for in the meantime. Pause, resume and cancel go through
    ``threading.Event`` objects that core checks between batches; the thread is never terminated.

    Every library write in the app runs on this thread: index runs, and the commands queued with
    ``submit`` (folder add/remove, ...), which the loop drains before each run. Commands marked
    ``anytime`` also run between batches of a run (an added folder shows up at once); the others
    wait for the run to end, so nothing deletes rows under a file being committed.

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
    state_changed = Signal(str)  # a WorkerState value
    model_loaded = Signal()
    command_done = Signal(object, object, object)  # _Command, result, exception (or None)

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
        self._commands: deque[_Command] = deque()
        self._stopping = False
        self._model_ready = False
        self._last_done = 0
        self._last_current: str | None = None
        self._state = WorkerState.IDLE
        self._thread_ident: int | None = None
        self.command_done.connect(self._deliver)  # queued: the worker object lives on the GUI thread
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

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        result: Callable[[Any], None] | None = None,
        error: Callable[[BaseException], None] | None = None,
        anytime: bool = False,
    ) -> None:
        """Run a library write on the worker thread, in submission order; ``result`` or ``error``
        is then called on the GUI thread. Dropped once the worker is stopping."""
        with self._wake:
            if self._stopping:
                return
            self._commands.append(_Command(fn, result, error, anytime))
            self._wake.notify()

    def pause(self) -> None:
        self._pause.set()
        if self._state in (WorkerState.INDEXING, WorkerState.SCANNING):
            self._set_state(WorkerState.PAUSED)

    def resume(self) -> None:
        self._pause.clear()
        if self._state == WorkerState.PAUSED:
            self._set_state(WorkerState.INDEXING)

    def is_paused(self) -> bool:
        return self._pause.is_set()

    def state(self) -> WorkerState:
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
            self._commands.clear()
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
        self._thread_ident = threading.get_ident()  # tests check that writes happen on this thread
        _lower_priority()
        while True:
            self._run_commands(anytime_only=False)
            with self._wake:
                while not self._queued and not self._commands and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                if not self._queued:
                    continue  # commands only: run them at the top of the loop
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
                # Only with files waiting: the full model (torch, ~1.6 GB) on a launch with
                # nothing new would take both cores from the first search. Files the scan
                # finds are still embedded: library.index loads the model itself for them.
                if _has_pending_work(self._library):
                    if not self._model_ready:
                        self._set_state(WorkerState.LOADING)
                    # Every run: after a model change in the settings this loads the new one.
                    load_model_gently(self._library, for_indexing=True)
                    if not self._model_ready:
                        self._model_ready = True
                        self.model_loaded.emit()
                self._last_done, self._last_current = 0, None
                self._set_state(WorkerState.PAUSED if self._pause.is_set() else WorkerState.SCANNING)
                report = self._library.index(
                    paths, progress=self._on_library_progress, cancel=self._cancel, pause=self._pause
                )
            else:
                self._set_state(WorkerState.SCANNING)
                report = self._library.scan(paths)
        except Exception as exc:
            log.exception("indexing failed")
            self.error.emit("", str(exc) or type(exc).__name__)
        if report is not None:
            for path, reason in report.errors:
                self.error.emit(path, reason)
        self._set_state(WorkerState.IDLE)  # before finished: a slot on finished sees the worker idle
        self.finished.emit(report)

    def _run_commands(self, *, anytime_only: bool) -> None:
        """Run queued commands in order (stopping at the first that must wait for the run's end)."""
        while True:
            with self._wake:
                if self._stopping or not self._commands or (anytime_only and not self._commands[0].anytime):
                    return
                command = self._commands.popleft()
            try:
                with self.writing():
                    value = command.fn()
            except Exception as exc:
                log.warning("library change failed: %s", exc)
                self.command_done.emit(command, None, exc)
            else:
                self.command_done.emit(command, value, None)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Held around every command this thread runs: the seam for a cross-process writer lock
        (issue #7, parts 1-4); core's index run takes its own."""
        yield

    def _deliver(self, command: _Command, value: object, exc: BaseException | None) -> None:
        # GUI thread (queued connection from the worker thread).
        if exc is not None:
            if command.on_error is not None:
                command.on_error(exc)
        elif command.on_result is not None:
            command.on_result(value)

    def _on_library_progress(self, p: IndexProgress) -> None:
        # Called by core on this thread between batches; signals carry it to the GUI thread.
        self._run_commands(anytime_only=True)
        if p.files_done > self._last_done and self._last_current:
            self.file_done.emit(self._last_current)
        self._last_done, self._last_current = p.files_done, p.current
        if (
            p.phase in (IndexPhase.INDEXING, IndexPhase.SCANNING, IndexPhase.WORDS)
            and self._state != WorkerState.PAUSED
        ):
            self._set_state(WorkerState.SCANNING if p.phase == IndexPhase.SCANNING else WorkerState.INDEXING)
        self.progress.emit(p)

    def _set_state(self, state: WorkerState) -> None:
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


def _has_pending_work(library: Library) -> bool:
    """Whether the library already knows of files to embed (pending, interrupted, or not yet
    covered by the current model); True when it cannot tell."""
    try:
        from reelseek.core.store_models import coverage
        from reelseek.core.types import INDEXING, PENDING

        counts = library.store.status_counts()
        covered, total = coverage(library.store, library.model_id())
    except Exception:  # an odd library state: load as before
        return True
    return counts.get(PENDING, 0) + counts.get(INDEXING, 0) > 0 or covered < total
