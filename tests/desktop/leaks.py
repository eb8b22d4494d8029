"""Fail a test that leaves a QThread running, a QTimer active, a pool busy or a top-level widget alive.

Qt classes and TaskRunner are patched once so that every QThread, QTimer, QThreadPool and
TaskRunner started from Python is remembered (weakly); after each test the ones still running
are reported and then stopped, so one leaky test cannot break the next. Widgets are compared
with the top-level list from before the test, after pytest-qt has closed the widgets it was
given and deferred deletes have run.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThread, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from reelseek.desktop.tasks import TaskRunner

# Qt's own short-lived popups that live for the whole session by design.
IGNORED_WIDGET_CLASSES = {"QTipLabel", "QComboBoxPrivateContainer"}


@dataclass
class _Tracked:
    threads: weakref.WeakSet[QThread] = field(default_factory=weakref.WeakSet)
    timers: weakref.WeakSet[QTimer] = field(default_factory=weakref.WeakSet)
    pools: weakref.WeakSet[QThreadPool] = field(default_factory=weakref.WeakSet)
    runners: weakref.WeakSet[TaskRunner] = field(default_factory=weakref.WeakSet)


TRACKED = _Tracked()
_installed = False


def install() -> None:
    """Patch QThread.start, QTimer.start and QThreadPool.start to remember their objects."""
    global _installed
    if _installed:
        return
    _installed = True
    thread_start, timer_start, pool_start = QThread.start, QTimer.start, QThreadPool.start

    def tracked_thread_start(self: QThread, *args: object) -> None:
        TRACKED.threads.add(self)
        thread_start(self, *args)

    def tracked_timer_start(self: QTimer, *args: object) -> None:
        TRACKED.timers.add(self)
        timer_start(self, *args)

    def tracked_pool_start(self: QThreadPool, *args: object) -> None:
        TRACKED.pools.add(self)
        pool_start(self, *args)

    QThread.start = tracked_thread_start  # type: ignore[method-assign]
    QTimer.start = tracked_timer_start  # type: ignore[method-assign]
    QThreadPool.start = tracked_pool_start  # type: ignore[method-assign]
    runner_run = TaskRunner.run

    def tracked_runner_run(self: TaskRunner, *args: object, **kwargs: object) -> int:
        TRACKED.runners.add(self)
        return runner_run(self, *args, **kwargs)  # type: ignore[arg-type]

    TaskRunner.run = tracked_runner_run  # type: ignore[method-assign]


def _alive(obj: object) -> bool:
    return shiboken6.isValid(obj)


def flush_deletes() -> None:
    """Run pending deleteLater() calls (processEvents alone does not, outside an event loop)."""
    app = QCoreApplication.instance()
    if app is None:
        return
    for _ in range(3):
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _key(w: QWidget) -> int:
    # The C++ address: Python wrappers of the same widget can be recreated with a new id().
    return int(shiboken6.getCppPointer(w)[0])


def top_level_widgets() -> set[int]:
    return {_key(w) for w in QApplication.topLevelWidgets()}


def find_leaks(widgets_before: set[int], *, clean_up: bool = True) -> list[str]:
    """Describe what outlived the test; with ``clean_up`` also stop and delete it."""
    flush_deletes()
    leaks: list[str] = []
    for thread in list(TRACKED.threads):
        if _alive(thread) and thread.isRunning():
            leaks.append(f"QThread {thread.objectName() or type(thread).__name__!r} is still running")
            if clean_up:
                thread.quit()
                thread.wait(5000)
    for timer in list(TRACKED.timers):
        if _alive(timer) and timer.isActive():
            owner = timer.parent()
            where = f" (parent {type(owner).__name__})" if owner is not None else ""
            leaks.append(f"QTimer {timer.objectName()!r} every {timer.interval()} ms is still active{where}")
            if clean_up:
                timer.stop()
    for pool in list(TRACKED.pools):
        if _alive(pool) and pool.activeThreadCount() > 0 and not pool.waitForDone(2000):
            leaks.append(f"QThreadPool {pool.objectName()!r} still runs {pool.activeThreadCount()} job(s)")
    for runner in list(TRACKED.runners):
        if _alive(runner) and runner.busy() > 0 and not runner.wait(2000):
            leaks.append(f"TaskRunner {runner.objectName()!r} still runs {runner.busy()} job(s)")
    for w in QApplication.topLevelWidgets():
        if not _alive(w) or _key(w) in widgets_before or type(w).__name__ in IGNORED_WIDGET_CLASSES:
            continue
        leaks.append(f"top-level widget {type(w).__name__} {w.objectName()!r} outlived the test")
        if clean_up:
            w.close()
            w.deleteLater()
    if clean_up and leaks:
        flush_deletes()
    return leaks


@pytest.fixture(autouse=True)
def qt_leak_check(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[None]:
    """Autouse: set up before qtbot (so torn down after it has closed its widgets), then check."""
    install()
    flush_deletes()
    before = top_level_widgets()
    yield
    if request.node.get_closest_marker("allow_leaks"):
        find_leaks(before)
        return
    leaks = find_leaks(before)
    if leaks:
        pytest.fail("Qt objects outlived the test:\n  " + "\n  ".join(leaks), pytrace=False)


def assert_no_widget(cls: type[QWidget]) -> None:
    alive = [w for w in QApplication.topLevelWidgets() if isinstance(w, cls)]
    assert not alive, f"{len(alive)} {cls.__name__} still alive"
