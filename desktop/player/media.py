"""PlayerMediaLoader: the in-point still and the file's frame rate, read through core off the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from reelseek.desktop.tasks import TaskRunner

STILL_WIDTH = 960


@dataclass(frozen=True)
class MediaFacts:
    """What the player needs to count frames: the average rate and the length."""

    path: str
    fps: float | None
    duration: float
    keyframe_interval: float | None = None


class PlayerMediaLoader(QObject):
    """Two small jobs per opened moment: decode the in-point still (shown until libvlc's first
    frame arrives) and probe the rate. A newer request makes older answers stale; those are dropped."""

    still_ready = Signal(int, object)  # request id, QImage
    facts_ready = Signal(int, object)  # request id, MediaFacts

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner("player-media", max_threads=2, parent=self)
        self._request = 0

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

    def _deliver(self, signal: Signal, rid: int, value: object) -> None:
        if rid == self._request and value is not None:
            signal.emit(rid, value)  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        self._runner.shutdown()
