"""End to end through the real widgets, the real core and the project's test model (no fakes).

Each test gets its own REELSEEK-style data folder and its own copy of a small generated footage
library whose scenes have known captions, colours and time ranges.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from reelseek.core.types import IndexProgress
from tests.desktop.fakes import Recorder
from tests.desktop.frames import closest_scene, scene_references, source_frame
from tests.desktop.gui_helpers import (
    INDEX_TIMEOUT_MS,
    LatencyProbe,
    answer,
    copy_footage,
    extra_video,
    generate_footage,
    index_folder,
    open_window,
    overlap,
    search,
    wait_for_report,
)
from tests.desktop.test_results import double_click
from tests.desktop.test_search_bar import drop_event
from tests.synth.videos import VideoSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def footage_src(tmp_path_factory: pytest.TempPathFactory) -> list[VideoSpec]:
    return generate_footage(tmp_path_factory.mktemp("footage-src"))


@pytest.fixture
def footage(footage_src: list[VideoSpec], tmp_path: Path) -> list[VideoSpec]:
    return copy_footage(footage_src, tmp_path / "footage")


def test_no_heavy_work_on_the_gui_thread_while_indexing_and_searching(
    qtbot: QtBot, tmp_path: Path, footage: list[VideoSpec], windows: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedding, decoding and library writes never run on the GUI thread while files index,
    searches run (one typed every 300 ms) and a folder is removed; every write runs on the index
    worker's thread. Counted per call with the calling thread, so a busy machine cannot fail it
    (the old version timed a GUI timer and failed at 127 ms against 100 ms under load).

    The timer lateness is still measured, as a figure: printed, and written to
    $REELSEEK_BENCH_OUT/gui_latency.json when that is set (benchmark runs)."""
    window = open_window(qtbot, tmp_path / "home", windows)
    calls = _record_threads(monkeypatch)
    gui = threading.get_ident()
    probe = LatencyProbe(20, label=window.worker.state)
    captions = [s.caption() for v in footage for s in v.scenes]
    typed = itertools.cycle(captions)  # the run now includes the words pass: never run out
    typer = Recorder()  # a QObject parent for the typing timer
    typing = QTimer(typer)
    typing.setInterval(300)
    typing.timeout.connect(lambda: (window.search_bar.field.setText(next(typed)), window.search_bar.search_now()))
    finished = Recorder()
    window.worker.finished.connect(finished.record)
    probe.start()
    typing.start()
    folder = footage[0].path.parent
    window.add_folders([folder])
    wait_for_report(qtbot, finished, lambda r: r.indexed == len(footage))
    qtbot.wait(1500)  # searches against the finished library too
    typing.stop()
    qtbot.waitUntil(lambda: not window.search.is_busy(), timeout=60_000)
    with qtbot.waitSignal(window.library_ctl.folder_removed, timeout=60_000):
        window.remove_folder(str(folder))
    probe.stop()

    # Everything that was meant to happen did (so the thread checks below are not vacuous).
    for name in ("encode_frames", "encode_texts", "sample_frames", "probe", "transaction", "index_save"):
        assert calls[name], f"{name} never ran"
    assert len(calls["transaction"]) >= len(footage) + 2  # commits, the folder add and remove
    on_gui = {name: len([t for t in threads if t == gui]) for name, threads in calls.items()}
    assert not any(on_gui.values()), f"heavy work on the GUI thread: {on_gui}"
    # Every database write ran on the index worker's thread (folder add and remove included).
    assert set(calls["transaction"]) == {window.worker._thread_ident}, "a library write ran off the worker"
    # Not checked here: a search that meets a stale vector index rebuilds it and saves it from the
    # search thread; issue #7 part 2 ("searches never write") takes that save away from search.

    figure = {"max_late_ms_by_state": {lab: probe.max_late_ms(lab) for lab in dict.fromkeys(probe.labels)}}
    print(f"\nGUI timer lateness by worker state (a figure, not a criterion): {probe.summary()}")
    out = os.environ.get("REELSEEK_BENCH_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "gui_latency.json").write_text(json.dumps(figure, indent=2))


def _record_threads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Wrap the heavy and the writing calls of core to record which thread makes each call."""
    from reelseek.core import media
    from reelseek.core.index import VectorIndex
    from reelseek.core.models.embedder import Embedder
    from reelseek.core.models.image_encoder import ImageEncoder
    from reelseek.core.models.text_encoder import TextEncoder
    from reelseek.core.store import Store

    calls: dict[str, list[int]] = {}

    def wrap(owner: object, attr: str, name: str) -> None:
        real = getattr(owner, attr)
        calls.setdefault(name, [])

        def recorded(*args: object, **kwargs: object) -> object:
            calls[name].append(threading.get_ident())
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, attr, recorded)

    wrap(Embedder, "encode_frames", "encode_frames")
    wrap(ImageEncoder, "encode_frames", "encode_frames")  # frames run on ONNX Runtime on a CPU
    wrap(Embedder, "encode_texts", "encode_texts")
    wrap(TextEncoder, "encode_texts", "encode_texts")  # text queries run on the torch-free text tower
    wrap(media, "sample_frames", "sample_frames")
    wrap(media, "probe", "probe")
    wrap(media, "load_image", "load_image")
    wrap(media, "thumbnail_jpeg", "thumbnail_jpeg")
    wrap(Store, "transaction", "transaction")
    wrap(VectorIndex, "save", "index_save")
    return calls


def test_full_loop_folder_to_indexed_to_search_to_playing_frame(
    qtbot: QtBot, tmp_path: Path, footage: list[VideoSpec], windows: list
) -> None:
    window = open_window(qtbot, tmp_path / "home", windows)
    assert window.has_model()
    progress = Recorder()
    window.worker.progress.connect(progress.record)
    report = index_folder(qtbot, window, footage[0].path.parent, len(footage))
    assert report.indexed == len(footage) and not report.errors

    # The worker's progress arrived as signals: files counted up, with the current file named.
    snapshots: list[IndexProgress] = [c[0] for c in progress.calls]  # type: ignore[misc]
    indexing = [p for p in snapshots if p.phase == "indexing"]
    assert indexing, "progress signals during indexing"
    assert [p.files_done for p in indexing] == sorted(p.files_done for p in indexing)
    assert {Path(p.current).name for p in indexing if p.current} <= {v.path.name for v in footage}
    assert snapshots[-1].phase == "finished" and snapshots[-1].files_done == len(footage)
    qtbot.waitUntil(lambda: "Library up to date" in window.index_status.text.text(), timeout=5000)
    qtbot.waitUntil(
        lambda: f"{len(footage)} of {len(footage)} indexed" in window.folders.list.item(0).text(), timeout=5000
    )
    assert window.pages.currentIndex() == 1

    video = footage[1]
    scene_no = 1
    scene = video.scenes[scene_no]
    moments = search(qtbot, window, scene.caption())
    first = moments[0]
    assert Path(first.path).name == video.path.name, f"{scene.caption()!r} found {first}"
    assert overlap(first, scene) > 0.5 * (first.end - first.start), (first, scene)
    qtbot.waitUntil(lambda: window.results.model.thumbnail(first) is not None, timeout=20_000)

    view = window.results.view
    double_click(qtbot, view.viewport(), view.visualRect(window.results.model.index(0)).center())
    player = window.player
    assert player.moment() == first
    assert player.timeline.range() == (first.start, first.end)
    # Judge the decoded picture, not get_time(): once playback is well inside the scene's part of
    # the range, the frame on screen must look like that scene of the source file.
    lo, hi = max(first.start, scene.start), min(first.end, scene.end)
    middle = (lo + hi) / 2
    qtbot.waitUntil(lambda: player.vlc.frame_count() > 0 and player.vlc.time() >= middle, timeout=15_000)
    refs = scene_references(video)
    frame = player.surface.frame()
    assert frame is not None
    assert closest_scene(frame, refs) == scene_no


def test_dropping_a_still_finds_its_source_and_junk_gets_a_message(
    qtbot: QtBot, tmp_path: Path, footage: list[VideoSpec], windows: list
) -> None:
    window = open_window(qtbot, tmp_path / "home", windows)
    index_folder(qtbot, window, footage[0].path.parent, len(footage))

    notes = tmp_path / "shot-list.txt"
    notes.write_text("scene 4, take 2")
    window.dropEvent(drop_event([notes]))
    assert "shot-list.txt" in window.notice.text()
    assert window.search_bar.chips() == []

    video = footage[2]
    scene = video.scenes[0]
    still = tmp_path / "still.png"
    assert source_frame(video.path, (scene.start + scene.end) / 2).save(str(still))
    window.dropEvent(drop_event([still]))
    assert [c.path for c in window.search_bar.chips()] == [still]
    qtbot.waitUntil(lambda: window.results.state() == "results" and not window.search.is_busy(), timeout=60_000)
    first = window.results.model.moment(0)
    assert first is not None and Path(first.path).name == video.path.name
    assert overlap(first, scene) > 0


def test_watched_folder_changes_show_up_without_user_action(
    qtbot: QtBot, tmp_path: Path, footage: list[VideoSpec], windows: list
) -> None:
    window = open_window(qtbot, tmp_path / "home", windows, watch_debounce_ms=300)
    folder = footage[0].path.parent
    index_folder(qtbot, window, folder, len(footage))
    finished = Recorder()
    window.worker.finished.connect(finished.record)

    new = extra_video(tmp_path / "incoming" / "new_take.mp4", footage)
    caption = new.scenes[0].caption()
    search(qtbot, window, caption)
    assert all(Path(m.path).name != "new_take.mp4" for m in window.results.model.moments())

    (folder / "new_take.mp4").write_bytes(new.path.read_bytes())
    wait_for_report(qtbot, finished, lambda r: r.indexed == 1, timeout=60_000)
    # The open search re-ran by itself: the new clip is now the answer.
    qtbot.waitUntil(lambda: [Path(m.path).name for m in answer(window)][:1] == ["new_take.mp4"], timeout=30_000)

    (folder / "new_take.mp4").unlink()
    wait_for_report(qtbot, finished, lambda r: r.removed == 1, timeout=60_000)
    qtbot.waitUntil(
        lambda: bool(answer(window)) and all(Path(m.path).name != "new_take.mp4" for m in answer(window)),
        timeout=30_000,
    )


def test_pause_holds_indexing_and_resume_finishes_it(
    qtbot: QtBot, tmp_path: Path, footage: list[VideoSpec], windows: list
) -> None:
    window = open_window(qtbot, tmp_path / "home", windows)
    progress, finished = Recorder(), Recorder()
    window.worker.progress.connect(progress.record)
    window.worker.finished.connect(finished.record)
    window.index_status.pause_button.click()  # paused before the first batch: nothing may finish
    assert window.worker.is_paused()
    window.add_folders([footage[0].path.parent])
    qtbot.waitUntil(lambda: any(c[0].phase == "paused" for c in progress.calls), timeout=INDEX_TIMEOUT_MS)
    qtbot.wait(1500)
    assert finished.calls == []
    assert max(c[0].files_done for c in progress.calls) == 0, "no file finished while paused"
    assert "Paused" in window.index_status.text.text()
    window.index_status.pause_button.click()  # resume
    assert not window.worker.is_paused()
    report = wait_for_report(qtbot, finished, lambda r: r.indexed == len(footage))
    assert not report.cancelled


@pytest.fixture(autouse=True)
def _model_present() -> None:
    from reelseek.core.models import get_spec, is_available

    spec = get_spec("reelseek-test-tiny")
    if not is_available(spec, Path("/nonexistent")):
        pytest.fail("the test model resources/models/reelseek-test-tiny is missing (tests/synth/train_test_model.py)")
