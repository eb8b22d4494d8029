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


def test_jobs_run_on_threads_python_started(qtbot: QtBot) -> None:
    """A QThreadPool thread shows up in Python as a _DummyThread: torch's GIL re-acquire there
    froze the app (see desktop/tasks.py). Jobs must run on threads Python itself started."""
    runner = TaskRunner("t", max_threads=2)
    seen: list[threading.Thread] = []
    for _ in range(3):
        runner.run(lambda: seen.append(threading.current_thread()))
    assert runner.wait(5000)
    assert len(seen) == 3
    assert not any(isinstance(t, threading._DummyThread) for t in seen)  # type: ignore[attr-defined]
    assert all(t.daemon and t.name == "t-task" for t in seen)
    assert runner.shutdown()


def test_idle_threads_exit_and_later_jobs_still_run(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from reelseek.desktop import tasks

    monkeypatch.setattr(tasks._Workers, "IDLE_S", 0.05)
    runner = TaskRunner("t", max_threads=2)
    got: list[int] = []
    for round_ in range(20):  # jobs queued around the moment an idle thread gives up are not lost
        runner.run(lambda r=round_: r, result=got.append)
        assert runner.wait(10_000)
        time.sleep(0.05 * (round_ % 3))
    qtbot.waitUntil(lambda: len(got) == 20, timeout=10_000)
    assert sorted(got) == list(range(20))
    qtbot.waitUntil(lambda: not any(t.name == "t-task" for t in threading.enumerate()), timeout=10_000)
    assert runner.shutdown()


def test_two_slow_jobs_use_two_threads(qtbot: QtBot) -> None:
    runner = TaskRunner("t", max_threads=2)
    both, release = threading.Barrier(2, timeout=10), threading.Event()
    passed: list[int] = []
    for _ in range(2):  # run one after the other, the first would break the barrier and never pass
        runner.run(lambda: (both.wait(), passed.append(1), release.wait(10)))
    qtbot.waitUntil(lambda: len(passed) == 2, timeout=15_000)
    assert runner.busy() == 2
    assert not runner.wait(50)  # still running: wait() says so instead of returning early
    release.set()
    assert runner.wait(10_000)
    assert runner.busy() == 0
    assert runner.shutdown()


def test_worker_threads_hold_no_reference_to_the_runner(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker thread that dropped a runner's last reference deleted the QObject off the GUI
    thread while the GUI thread delivered its events: a segfault. Jobs must not keep it alive."""
    import gc
    import weakref

    from reelseek.desktop import tasks

    jobs: list[object] = []
    start = tasks._Workers.start
    monkeypatch.setattr(tasks._Workers, "start", lambda self, job: (jobs.append(job), start(self, job))[1])
    runner = TaskRunner("t", max_threads=1)
    got: list[int] = []
    runner.run(lambda: 7, result=got.append)
    qtbot.waitUntil(lambda: got == [7], timeout=5000)
    assert runner.shutdown()
    ref = weakref.ref(runner)
    del runner
    gc.collect()
    assert jobs  # the job (what a worker thread holds) is still alive here, the runner is not
    assert ref() is None
