"""Shared pieces of the end-to-end GUI tests: a generated footage library, the real window, probes."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.types import IndexReport, Moment
from reelseek.desktop.main_window import MainWindow
from tests.desktop.fakes import Recorder
from tests.synth.scenes import all_triples
from tests.synth.videos import SceneSpec, VideoSpec, make_library, write_video

TEST_MODEL = "reelseek-test-tiny"
INDEX_TIMEOUT_MS = 180_000  # cold torch import + model load on a busy 2-core CI machine


def generate_footage(root: Path, n_videos: int = 4) -> list[VideoSpec]:
    """Small h264 clips, 2-3 scenes of 2.5-3.5 s each; every scene's caption has one right answer."""
    return make_library(
        root,
        n_videos=n_videos,
        scenes_per_video=(2, 3),
        scene_seconds=(2.5, 3.5),
        codecs=("h264",),
        width=256,
        height=144,
        fps=10,
        heldout_share=0.0,
        seed=11,
    )


def copy_footage(videos: list[VideoSpec], dest: Path) -> list[VideoSpec]:
    """A private copy of the library (tests add and delete files in it)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for v in videos:
        shutil.copy2(v.path, dest / v.path.name)
        out.append(dataclasses.replace(v, path=dest / v.path.name))
    return out


def extra_video(path: Path, used: list[VideoSpec]) -> VideoSpec:
    """A clip whose single scene shares no (colour, shape, background) triple with ``used``."""
    taken = {s.triple for v in used for s in v.scenes}
    colours = {s.colour for v in used for s in v.scenes}
    free = [t for t in all_triples() if t not in taken]
    # Prefer a colour the library does not use at all: the easiest unique answer for a tiny model.
    free.sort(key=lambda t: (t[0] in colours, t))
    colour, shape, background = free[0]
    return write_video(
        path, [SceneSpec(colour, shape, background, "still", 0.0, 3.0)], codec="h264", fps=10, width=256, height=144
    )


def open_window(qtbot: QtBot, home: Path, windows: list[tuple[MainWindow, Library]], **kw: object) -> MainWindow:
    """The real MainWindow on a real Library with the project's test model."""
    library = Library(home, model_id=TEST_MODEL)
    qs = QSettings(str(home / "gui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(library, qsettings=qs, player_render="callback", audio=False, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    windows.append((window, library))
    return window


def wait_for_report(
    qtbot: QtBot, rec: Recorder, test: Callable[[IndexReport], bool], timeout: int = INDEX_TIMEOUT_MS
) -> IndexReport:
    """Wait until the worker reported a finished run that passes ``test``."""

    def found() -> IndexReport | None:
        for call in rec.calls:
            report = call[0]
            if isinstance(report, IndexReport) and test(report):
                return report
        return None

    qtbot.waitUntil(lambda: found() is not None, timeout=timeout)
    report = found()
    assert report is not None
    return report


def index_folder(qtbot: QtBot, window: MainWindow, folder: Path, n: int) -> IndexReport:
    rec = Recorder()
    window.worker.finished.connect(rec.record)
    window.add_folders([folder])
    return wait_for_report(qtbot, rec, lambda r: r.indexed >= n)


def search(qtbot: QtBot, window: MainWindow, text: str) -> list[Moment]:
    """Type like an editor (the debounce fires the search) and wait for the cards."""
    field = window.search_bar.field
    field.clear()
    field.setFocus()
    qtbot.keyClicks(field, text)
    qtbot.waitUntil(
        lambda: (
            window.results.state() in ("results", "no_match")
            and window.search.last_query() is not None
            and window.search.last_query().text == text
            and not window.search.is_busy()
        ),
        timeout=60_000,
    )
    if window.results.state() == "no_match":
        # Core judged the best moment too close to the library's background scores (its calibration
        # is rough on a library this small); the editor's way on is the placeholder's button.
        assert "No good match" in window.results.placeholder_text(), window.results.placeholder_text()
        window.results.button.click()
    assert window.results.state() == "results", f"{text!r}: {window.results.placeholder_text()}"
    return window.results.model.moments()


def answer(window: MainWindow) -> list[Moment]:
    """The moments of the latest search: the cards, or those behind a "no good match" placeholder."""
    if window.results.state() == "no_match":
        return list(window.results._weak)
    return window.results.model.moments() if window.results.state() == "results" else []


def overlap(m: Moment, scene: SceneSpec) -> float:
    return max(0.0, min(m.end, scene.end) - max(m.start, scene.start))


class LatencyProbe(QObject):
    """A GUI-thread timer that records how late each tick fires (the window's responsiveness)."""

    def __init__(self, interval_ms: int = 20, label: Callable[[], str] = lambda: "") -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.late: list[float] = []
        self.labels: list[str] = []  # what was going on at each tick (e.g. the worker's state)
        self._label = label
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def max_late_ms(self, label: str | None = None) -> float:
        late = [x for x, lab in zip(self.late, self.labels, strict=True) if label is None or lab == label]
        return max(late, default=0.0) * 1000

    def summary(self) -> str:
        parts = []
        for lab in dict.fromkeys(self.labels):
            n = self.labels.count(lab)
            parts.append(f"{lab or '-'}: {n} ticks, worst {self.max_late_ms(lab):.0f} ms")
        return "; ".join(parts)

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, now - self._last - self.interval))
        self.labels.append(self._label())
        self._last = now
