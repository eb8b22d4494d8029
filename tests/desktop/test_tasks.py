"""TaskRunner: results and errors come back on the GUI thread; stale work is skipped."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from reelseek.desktop.tasks import TaskRunner


def test_result_and_error_arrive_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner("t", max_threads=2)
    gui = QThread.currentThread()
    got: list[tuple[str, object, bool]] = []
    worker_threads: list[int] = []

    def work() -> int:
        worker_threads.append(threading.get_ident())
        return 42

    def boom() -> None:
        raise ValueError("bad input")

    runner.run(work, result=lambda v: got.append(("ok", v, QThread.currentThread() is gui)))
    runner.run(boom, error=lambda e: got.append(("err", str(e), QThread.currentThread() is gui)))
    qtbot.waitUntil(lambda: len(got) == 2, timeout=3000)
    assert sorted(got) == [("err", "bad input", True), ("ok", 42, True)]
    assert worker_threads and worker_threads[0] != threading.get_ident()
    assert runner.pending() == 0
    assert runner.shutdown()


def test_cancel_queued_skips_jobs_that_have_not_started(qtbot: QtBot) -> None:
    runner = TaskRunner("t", max_threads=1)
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []
    delivered: list[int] = []
    runner.run(lambda: (started.set(), release.wait(5), ran.append(0)), result=lambda _v: delivered.append(0))
    assert started.wait(3)
    for i in range(1, 4):
        runner.run(lambda i=i: ran.append(i), result=lambda _v, i=i: delivered.append(i))
    runner.cancel_queued()
    runner.run(lambda: ran.append(9), result=lambda _v: delivered.append(9))
    release.set()
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=3000)
    assert ran == [0, 9]
    assert delivered == [0, 9]
    runner.shutdown()


def test_no_callbacks_after_shutdown(qtbot: QtBot) -> None:
    runner = TaskRunner("t", max_threads=1)
    delivered: list[object] = []
    runner.run(lambda: time.sleep(0.05), result=delivered.append)
    assert runner.shutdown()
    qtbot.wait(50)
    assert delivered == []
    with pytest.raises(RuntimeError, match="shut down"):
        runner.run(lambda: None)
