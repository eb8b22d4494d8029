"""IndexWorker on its own thread: signals, pause/resume, cancel, coalescing, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reelseek.core.types import IndexProgress
from reelseek.desktop.index_worker import IndexWorker
from tests.desktop.fakes import FakeLibrary, Recorder


@pytest.fixture
def lib(tmp_path: Path, light_warmup: None) -> FakeLibrary:
    return FakeLibrary(tmp_path, n_files=6, batch_s=0.03)


@pytest.fixture
def worker(lib: FakeLibrary) -> IndexWorker:
    w = IndexWorker(lib)  # type: ignore[arg-type]
    yield w
    assert w.stop(5000)


def test_progress_file_done_and_finished_come_through_signals(
    qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary
) -> None:
    progress_rec, done_rec = Recorder(), Recorder()
    worker.progress.connect(progress_rec.record)
    worker.file_done.connect(done_rec.record)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.request_index(["/footage"])
    report = blocker.args[0]
    assert report.indexed == 6
    assert lib.loaded, "the worker loads the model before embedding"
    assert lib.index_calls == [["/footage"]]
    qtbot.waitUntil(lambda: len(progress_rec.calls) == 7)
    progress: list[IndexProgress] = progress_rec.values()  # type: ignore[assignment]
    assert [p.files_done for p in progress if p.phase == "indexing"] == [0, 1, 2, 3, 4, 5]
    assert progress[-1].phase == "finished"
    assert done_rec.values()[:5] == [f"/footage/file{i}.mp4" for i in range(5)]
    assert all(progress_rec.on_gui_thread), "QObject slots run on the GUI thread, not the worker's"
    assert worker.state() == "idle"


def test_pause_stops_progress_and_resume_continues(qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary) -> None:
    lib.n_files = 40
    rec = Recorder()
    worker.state_changed.connect(rec.record)
    worker.request_index()
    qtbot.waitUntil(lambda: lib.batches_done >= 2, timeout=5000)
    worker.pause()
    assert worker.is_paused()
    qtbot.wait(100)  # let the batch in flight finish
    frozen = lib.batches_done
    qtbot.wait(300)
    assert lib.batches_done == frozen, "no batch may run while paused"
    assert "paused" in rec.values()
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.resume()
    assert lib.batches_done == 40


def test_requests_during_a_run_coalesce_into_one_more_run(qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary) -> None:
    lib.n_files = 5
    rec = Recorder()
    worker.finished.connect(rec.record)
    finished = rec.calls
    worker.request_index(["/a"])
    qtbot.waitUntil(lib.in_index.is_set, timeout=5000)
    worker.request_index(["/b"])
    worker.request_index(["/c"])
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=5000)
    qtbot.wait(100)
    assert lib.index_calls == [["/a"], ["/b", "/c"]]
    assert len(finished) == 2


def test_without_a_model_it_only_scans(qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary) -> None:
    lib.has_model = False
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.request_index(None)
    assert lib.scan_calls == [None]
    assert lib.index_calls == []
    assert not lib.loaded


def test_a_failing_run_reports_an_error_and_the_worker_lives_on(
    qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary
) -> None:
    lib.fail_with = OSError("disk full")
    rec = Recorder()
    worker.error.connect(rec.record)
    errors = rec.calls
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.request_index()
    assert blocker.args == [None]
    assert errors == [("", "disk full")]
    lib.fail_with = None
    lib.errors_to_report = [("/footage/broken.mp4", "no video stream")]
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.request_index()
    assert blocker.args[0].indexed == 6
    assert ("/footage/broken.mp4", "no video stream") in errors


def test_stop_while_paused_ends_the_thread(qtbot: QtBot, lib: FakeLibrary) -> None:
    lib.n_files = 1000
    w = IndexWorker(lib)  # type: ignore[arg-type]
    w.request_index()
    qtbot.waitUntil(lambda: lib.batches_done >= 1, timeout=5000)
    w.pause()
    qtbot.wait(50)
    assert w.stop(5000), "a paused run must wake up and honour the cancel"
    assert not w.is_running()
    assert lib.batches_done < 1000
    w.request_index()  # ignored after stop, no crash


def test_commands_run_on_the_worker_thread_in_order_with_results_on_the_gui_thread(
    qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary
) -> None:
    import threading

    ran: list[tuple[str, int]] = []
    delivered: list[tuple[str, object, bool]] = []
    gui = threading.get_ident()

    def command(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def fn() -> str:
            ran.append((name, threading.get_ident()))
            if fail:
                raise ValueError(f"{name} failed")
            return name.upper()

        return fn

    for name in ("add", "remove", "add-again"):
        worker.submit(command(name), result=lambda v, n=name: delivered.append((n, v, threading.get_ident() == gui)))
    worker.submit(
        command("bad", fail=True), error=lambda e: delivered.append(("bad", str(e), threading.get_ident() == gui))
    )
    qtbot.waitUntil(lambda: len(delivered) == 4, timeout=5000)
    assert [n for n, _ in ran] == ["add", "remove", "add-again", "bad"]
    assert all(ident == worker._thread_ident for _, ident in ran), "commands ran off the worker thread"
    assert all(ident != gui for _, ident in ran)
    assert delivered == [
        ("add", "ADD", True),
        ("remove", "REMOVE", True),
        ("add-again", "ADD-AGAIN", True),
        ("bad", "bad failed", True),
    ]


def test_anytime_commands_run_between_batches_others_after_the_run(
    qtbot: QtBot, worker: IndexWorker, lib: FakeLibrary
) -> None:
    lib.n_files = 30
    events: list[tuple[str, int]] = []
    worker.request_index()
    qtbot.waitUntil(lambda: lib.batches_done >= 2, timeout=5000)
    worker.submit(lambda: events.append(("remove", lib.batches_done)))  # waits for the run
    worker.submit(lambda: events.append(("add", lib.batches_done)), anytime=True)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: len(events) == 2, timeout=5000)
    # FIFO is kept: the anytime command queued behind a waiting one waits with it.
    assert [e[0] for e in events] == ["remove", "add"]
    assert all(done == 30 for _, done in events)

    events.clear()
    worker.request_index()
    qtbot.waitUntil(lambda: lib.batches_done >= 32, timeout=5000)
    worker.submit(lambda: events.append(("add", lib.batches_done)), anytime=True)
    qtbot.waitUntil(lambda: len(events) == 1, timeout=5000)
    assert events[0][1] < 60, "an anytime command ran only after the whole run"
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        pass


def test_commands_after_stop_are_dropped(qtbot: QtBot, lib: FakeLibrary) -> None:
    w = IndexWorker(lib)  # type: ignore[arg-type]
    assert w.stop(5000)
    ran: list[int] = []
    w.submit(lambda: ran.append(1))
    qtbot.wait(100)
    assert ran == []
