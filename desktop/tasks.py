"""Run short jobs off the GUI thread and hand ``result=``/``error=`` back on it (Picard's run_task).

Each TaskRunner owns its own QThreadPool so that the jobs of one kind are bounded and can be
waited for on shutdown without touching the others: searches get one thread (a newer search
makes the older one stale anyway), thumbnails get two (decoding is I/O-bound and parallel).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskRunner(QObject):
    """A small pool of threads for functions whose result goes back to the GUI thread.

    Callbacks run on the thread the runner lives on (the GUI thread), so they may touch widgets.
    After :meth:`shutdown` no callback runs any more, which is what a closing window wants.
    """

    # Emitted from pool threads; the receiver lives on the GUI thread, so delivery is queued.
    _finished = Signal(int, object, object)

    def __init__(self, name: str, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pool.setExpiryTimeout(5000)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[ResultCallback | None, ErrorCallback | None]] = {}
        self._closed = False
        self._epoch = 0  # bumped by cancel_queued(): jobs from an older epoch skip their work
        self._finished.connect(self._on_self_finished)

    def run(
        self,
        fn: Callable[[], Any],
        *,
        result: ResultCallback | None = None,
        error: ErrorCallback | None = None,
    ) -> int:
        """Queue ``fn``; later call ``result(value)`` or ``error(exception)`` on the GUI thread."""
        if self._closed:
            raise RuntimeError(f"task runner {self.objectName()!r} is shut down")
        task_id = next(self._ids)
        self._callbacks[task_id] = (result, error)
        signal = self._finished
        epoch = self._epoch

        def job() -> None:
            if epoch != self._epoch or self._closed:
                signal.emit(task_id, None, _Skipped())
                return
            try:
                value = fn()
            except BaseException as exc:
                signal.emit(task_id, None, exc)
            else:
                signal.emit(task_id, value, None)

        self._pool.start(job)
        return task_id

    def pending(self) -> int:
        """Jobs queued or running whose callbacks have not run yet."""
        return len(self._callbacks)

    def cancel_queued(self) -> None:
        """Skip jobs that have not started yet (their callbacks never run)."""
        self._epoch += 1

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the running jobs finish (callbacks are still delivered later, by the event loop)."""
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop accepting work, let running jobs finish, and forget every callback."""
        self._closed = True
        done = self._pool.waitForDone(timeout_ms)
        self._callbacks.clear()
        return done

    @Slot(int, object, object)
    def _on_self_finished(self, task_id: int, value: object, exc: object) -> None:
        callbacks = self._callbacks.pop(task_id, None)
        if callbacks is None or self._closed:
            return
        on_result, on_error = callbacks
        if isinstance(exc, _Skipped):
            return
        if exc is None:
            if on_result is not None:
                on_result(value)
        elif on_error is not None:
            on_error(exc)  # type: ignore[arg-type]
        else:
            log.error("task in %s failed", self.objectName(), exc_info=exc)  # type: ignore[arg-type]


class _Skipped(Exception):
    """Marks a job dropped by cancel_queued() or shutdown() before it started."""
