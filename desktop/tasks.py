"""Run short jobs off the GUI thread and hand ``result=``/``error=`` back on it (Picard's run_task).

Each TaskRunner owns its own threads so that the jobs of one kind are bounded and can be
waited for on shutdown without touching the others: searches get one thread (a newer search
makes the older one stale anyway), thumbnails get two (decoding is I/O-bound and parallel).

The threads are Python's, not a QThreadPool's. A Python callable run by QThreadPool executes
under a thread state that CPython's PyGILState API does not know as the thread's own; torch
(pybind11's gil_scoped_acquire) then re-acquires the GIL through that other state while this
thread already holds it, and the app froze with every thread idle (seen in a text search on
the torch path while indexing: gdb showed the GIL held by the search thread, which waited for
it itself). Python threads have one thread state each, so that cannot happen.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskRunner(QObject):
    """A small pool of threads for functions whose result goes back to the GUI thread.

    Callbacks run on the thread the runner lives on (the GUI thread), so they may touch widgets.
    After :meth:`shutdown` no callback runs any more, which is what a closing window wants.
    """

    def __init__(self, name: str, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._pool = _Workers(name, max_threads)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[ResultCallback | None, ErrorCallback | None]] = {}
        self._state = _State()
        self._key = _relay().add(self)

    @property
    def _closed(self) -> bool:
        return self._state.closed

    def run(
        self,
        fn: Callable[[], Any],
        *,
        result: ResultCallback | None = None,
        error: ErrorCallback | None = None,
    ) -> int:
        """Queue ``fn``; later call ``result(value)`` or ``error(exception)`` on the GUI thread."""
        if self._state.closed:
            raise RuntimeError(f"task runner {self.objectName()!r} is shut down")
        task_id = next(self._ids)
        self._callbacks[task_id] = (result, error)
        # The job holds no reference to this QObject: a worker thread dropping the last one
        # would delete it off the GUI thread while the GUI thread delivers its events (crashed).
        signal, key, state, epoch = _relay().delivered, self._key, self._state, self._state.epoch

        def job() -> None:
            if epoch != state.epoch or state.closed:
                signal.emit(key, task_id, None, _Skipped())
                return
            try:
                value = fn()
            except BaseException as exc:
                signal.emit(key, task_id, None, exc)
            else:
                signal.emit(key, task_id, value, None)

        self._pool.start(job)
        return task_id

    def pending(self) -> int:
        """Jobs queued or running whose callbacks have not run yet."""
        return len(self._callbacks)

    def cancel_queued(self) -> None:
        """Skip jobs that have not started yet (their callbacks never run)."""
        self._state.epoch += 1

    def busy(self) -> int:
        """Jobs queued or running on the threads (callbacks not counted)."""
        return self._pool.busy()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the running jobs finish (callbacks are still delivered later, by the event loop)."""
        return self._pool.wait(timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop accepting work, let running jobs finish, and forget every callback."""
        self._state.closed = True
        done = self._pool.wait(timeout_ms)
        self._pool.close()
        self._callbacks.clear()
        _relay().remove(self._key)
        return done

    def _on_finished(self, task_id: int, value: object, exc: object) -> None:
        callbacks = self._callbacks.pop(task_id, None)
        if callbacks is None or self._state.closed:
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


class _State:
    """What a queued job checks before it starts: plain Python, safe to drop on any thread."""

    def __init__(self) -> None:
        self.epoch = 0  # bumped by cancel_queued(): jobs from an older epoch skip their work
        self.closed = False


class _Relay(QObject):
    """One long-lived GUI-thread object that carries every runner's results back.

    Runners are looked up by key, so worker threads never hold a runner; a runner leaves the
    table when it shuts down or Qt destroys it (its parent closed).
    """

    # Emitted from worker threads; the relay lives on the GUI thread, so delivery is queued.
    delivered = Signal(int, int, object, object)

    def __init__(self) -> None:
        super().__init__()
        self._runners: dict[int, TaskRunner] = {}
        self._keys = itertools.count(1)
        self.delivered.connect(self._deliver)

    def add(self, runner: TaskRunner) -> int:
        key = next(self._keys)
        self._runners[key] = runner
        runner.destroyed.connect(lambda *_: self._runners.pop(key, None))
        return key

    def remove(self, key: int) -> None:
        self._runners.pop(key, None)

    @Slot(int, int, object, object)
    def _deliver(self, key: int, task_id: int, value: object, exc: object) -> None:
        runner = self._runners.get(key)
        if runner is not None:
            runner._on_finished(task_id, value, exc)


_RELAY: _Relay | None = None


def _relay() -> _Relay:
    global _RELAY
    if _RELAY is None:
        _RELAY = _Relay()  # first runner: created on the GUI thread, lives as long as the app
    return _RELAY


class _Skipped(Exception):
    """Marks a job dropped by cancel_queued() or shutdown() before it started."""


class _Workers:
    """Up to ``size`` daemon Python threads fed from one queue; they exit after 5 s idle.

    Daemon threads: a job still running when the app quits (a search on a stalled network
    drive) must not keep the process alive; shutdown() already waited for it as long as it may.
    """

    IDLE_S = 5.0

    def __init__(self, name: str, size: int) -> None:
        self._name = name
        self._size = max(1, size)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._threads = 0
        self._idle = 0
        self._busy = 0  # queued + running
        self._queued = 0  # put and not yet taken by a thread

    def start(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._busy += 1
            self._queued += 1
            self._jobs.put(job)  # under the lock: an idle thread timing out sees it (see _loop)
            spawn = self._queued > self._idle and self._threads < self._size
            if spawn:
                self._threads += 1
        if spawn:
            threading.Thread(target=self._loop, name=f"{self._name}-task", daemon=True).start()

    def busy(self) -> int:
        with self._lock:
            return self._busy

    def wait(self, timeout_ms: int = -1) -> bool:
        """True once no job is queued or running; False if ``timeout_ms`` (>= 0) ran out first."""
        with self._lock:
            timeout = None if timeout_ms < 0 else timeout_ms / 1000
            return self._lock.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        """Let idle threads exit now instead of after their idle time."""
        with self._lock:
            n = self._threads
        for _ in range(n):
            self._jobs.put(None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                job = self._jobs.get(timeout=self.IDLE_S)
            except queue.Empty:
                job = None
                timed_out = True
            else:
                timed_out = False
            with self._lock:
                self._idle -= 1
                if timed_out and self._queued:
                    continue  # a job arrived as the wait ran out: take it
                if job is None:
                    self._threads -= 1
                    return
                self._queued -= 1
            try:
                job()
            except BaseException:  # job() reports its own errors; never lose the thread silently
                log.exception("task in %s failed", self._name)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()
