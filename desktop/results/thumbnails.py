"""ThumbnailLoader: fetches moment thumbnails from core off the GUI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from reelseek.core.types import Moment
from reelseek.desktop.results.model import ThumbKey, thumb_key
from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.library import Library

THUMB_WIDTH = 320


class ThumbnailLoader(QObject):
    """Decodes a moment's best frame through ``Library.thumbnail`` on two pool threads.

    QImage is built in the pool thread (it is thread-safe); QPixmap only on the GUI thread.
    """

    loaded = Signal(object, object)  # Moment, QPixmap | None

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._runner = TaskRunner("thumbnails", max_threads=2, parent=self)
        self._in_flight: set[ThumbKey] = set()

    def request(self, moment: Moment) -> None:
        key = thumb_key(moment)
        if key in self._in_flight:
            return
        self._in_flight.add(key)
        library = self._library

        def load() -> QImage | None:
            data = library.thumbnail(moment, width=THUMB_WIDTH)
            if not data:
                return None
            image = QImage.fromData(data)
            return None if image.isNull() else image

        self._runner.run(
            load,
            result=lambda image: self._deliver(moment, image),
            error=lambda _exc: self._deliver(moment, None),
        )

    def _deliver(self, moment: Moment, image: QImage | None) -> None:
        self._in_flight.discard(thumb_key(moment))
        self.loaded.emit(moment, QPixmap.fromImage(image) if image is not None else None)

    def cancel_pending(self) -> None:
        """A new result list makes queued thumbnails of the old one pointless."""
        self._runner.cancel_queued()
        self._in_flight.clear()

    def shutdown(self) -> None:
        self._runner.shutdown()
