"""PlayerMediaLoader: the in-point still, the file's frame rate and exact paused frames, read through core
off the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from reelseek.desktop.tasks import TaskRunner

STILL_WIDTH = 960
EXACT_WIDTH = 1280  # as wide as libvlc's callback pictures (vlc_player.MAX_CALLBACK_WIDTH)


@dataclass(frozen=True)
class MediaFacts:
    """What the player needs to count frames: the average rate and the length."""

    path: str
    fps: float | None
    duration: float
    keyframe_interval: float | None = None


@dataclass(frozen=True)
class ExactFrame:
    """One frame of one file, decoded exactly (see PlayerMediaLoader.request_exact)."""

    path: str
    frame: int
    image: QImage


class PlayerMediaLoader(QObject):
    """Two small jobs per opened moment: decode the in-point still (shown until libvlc's first
    frame arrives) and probe the rate. A newer request makes older answers stale; those are dropped."""

    still_ready = Signal(int, object)  # request id, QImage
    facts_ready = Signal(int, object)  # request id, MediaFacts
    exact_ready = Signal(int, object)  # request id, ExactFrame

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner("player-media", max_threads=2, parent=self)
        self._request = 0
        # Paused frames: one decode at a time, only the newest queued (key repeat coalesces).
        self._exact_runner = TaskRunner("player-exact", max_threads=1, parent=self)
        self._exact_request = 0
        self.exact_decodes = 0  # decodes started (tests count work, not time)

    def request(self, path: str, seconds: float) -> int:
        """Start both jobs; returns the request id the signals will carry."""
        self._runner.cancel_queued()
        self._request += 1
        rid = self._request

        def still() -> QImage | None:
            from reelseek.core import media

            rgb = media.read_frame(Path(path), seconds, max_width=STILL_WIDTH)
            h, w, _ = rgb.shape
            return QImage(rgb.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy()

        def facts() -> MediaFacts:
            from reelseek.core import media

            info = media.probe(Path(path))
            return MediaFacts(path, info.fps, info.duration, info.keyframe_interval)

        self._runner.run(still, result=lambda img: self._deliver(self.still_ready, rid, img), error=lambda _e: None)
        self._runner.run(facts, result=lambda f: self._deliver(self.facts_ready, rid, f), error=lambda _e: None)
        return rid

    def current(self) -> int:
        return self._request

    def request_exact(self, path: str, frame: int, seconds: float) -> int:
        """Decode the frame on screen at ``seconds`` (the middle of ``frame``) exactly, with PyAV.

        libvlc's paused seeks cannot say which picture they show (its callbacks carry no time,
        and under load it shows a neighbour, or a late picture of an earlier seek), so the paused
        picture an editor marks on is decoded here, frame-exact; libvlc's is shown until it comes.
        """
        self._exact_runner.cancel_queued()
        self._exact_request += 1
        rid = self._exact_request

        def decode() -> ExactFrame:
            from reelseek.core import media

            self.exact_decodes += 1
            rgb = media.read_frame(Path(path), seconds, max_width=EXACT_WIDTH)
            h, w, _ = rgb.shape
            return ExactFrame(path, frame, QImage(rgb.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy())

        def deliver(value: object) -> None:
            if rid == self._exact_request and value is not None:
                self.exact_ready.emit(rid, value)

        self._exact_runner.run(decode, result=deliver, error=lambda _e: None)
        return rid

    def _deliver(self, signal: Signal, rid: int, value: object) -> None:
        if rid == self._request and value is not None:
            signal.emit(rid, value)  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        self._runner.shutdown()
        self._exact_runner.shutdown()
