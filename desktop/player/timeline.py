"""TimelineWidget: the file's duration with the matched range, the in/out marks and a draggable playhead."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from reelseek.desktop import theme

MARGIN = 8
MARK_COLOUR = QColor("#e8eaee")


class TimelineWidget(QWidget):
    """Click or drag to seek; the amber band is the moment the search found."""

    seek_requested = Signal(float)  # seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Timeline")
        self._duration = 0.0
        self._range: tuple[float, float] | None = None
        self._position = 0.0
        self._marks: tuple[float, float] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click or drag to seek · amber: the moment found · brackets: in/out marks (I/O)")

    def sizeHint(self) -> QSize:
        return QSize(400, 30)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 30)

    def set_duration(self, seconds: float) -> None:
        self._duration = max(0.0, float(seconds))
        self.update()

    def duration(self) -> float:
        return self._duration

    def set_range(self, start: float, end: float) -> None:
        self._range = (min(start, end), max(start, end))
        self.update()

    def range(self) -> tuple[float, float] | None:
        return self._range

    def set_marks(self, start: float, end: float) -> None:
        """The editor's in/out marks, drawn as brackets over the track."""
        self._marks = (min(start, end), max(start, end))
        self.update()

    def marks(self) -> tuple[float, float] | None:
        return self._marks

    def set_position(self, seconds: float) -> None:
        if abs(seconds - self._position) > 1e-3:
            self._position = max(0.0, float(seconds))
            self.update()

    def position(self) -> float:
        return self._position

    # --- geometry ---------------------------------------------------------------------------

    def _track(self) -> QRectF:
        return QRectF(MARGIN, self.height() / 2 - 4, max(1.0, self.width() - 2 * MARGIN), 8)

    def x_for(self, seconds: float) -> float:
        track = self._track()
        if self._duration <= 0:
            return track.left()
        return track.left() + track.width() * min(1.0, max(0.0, seconds / self._duration))

    def time_at(self, x: float) -> float:
        track = self._track()
        frac = min(1.0, max(0.0, (x - track.left()) / track.width()))
        return frac * self._duration

    # --- events -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        track = self._track()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2c2f36"))
        p.drawRoundedRect(track, 3, 3)
        if self._duration > 0:
            played = QRectF(track.left(), track.top(), self.x_for(self._position) - track.left(), track.height())
            p.setBrush(QColor("#45618c"))
            p.drawRoundedRect(played, 3, 3)
            if self._range is not None:
                a, b = self.x_for(self._range[0]), self.x_for(self._range[1])
                band = QRectF(a, track.top() - 3, max(2.0, b - a), track.height() + 6)
                fill = QColor(theme.RANGE)
                fill.setAlpha(150)
                p.setBrush(fill)
                p.drawRect(band)
                p.setPen(QPen(theme.RANGE, 2))
                p.drawLine(QPointF(a, band.top() - 2), QPointF(a, band.bottom() + 2))
                p.drawLine(QPointF(b, band.top() - 2), QPointF(b, band.bottom() + 2))
            if self._marks is not None:
                self._paint_marks(p, track)
            x = self.x_for(self._position)
            p.setPen(QPen(QColor("#ffffff"), 2))
            p.drawLine(QPointF(x, 3), QPointF(x, self.height() - 3))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#ffffff"))
            p.drawPolygon(QPolygonF([QPointF(x - 5, 1), QPointF(x + 5, 1), QPointF(x, 7)]))
        p.end()

    def _paint_marks(self, p: QPainter, track: QRectF) -> None:
        assert self._marks is not None
        a, b = self.x_for(self._marks[0]), self.x_for(self._marks[1])
        top, bottom = track.top() - 7, track.bottom() + 7
        shade = QColor(MARK_COLOUR)
        shade.setAlpha(40)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(shade)
        p.drawRect(QRectF(a, top, max(1.0, b - a), bottom - top))
        p.setPen(QPen(MARK_COLOUR, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for x, tick in ((a, 4.0), (b, -4.0)):  # [ at the in mark, ] at the out mark
            p.drawPolyline(
                QPolygonF([QPointF(x + tick, top), QPointF(x, top), QPointF(x, bottom), QPointF(x + tick, bottom)])
            )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._duration > 0:
            self._seek_to(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self._duration > 0:
            self._seek_to(event.position().x())

    def _seek_to(self, x: float) -> None:
        t = self.time_at(x)
        self.set_position(t)
        self.seek_requested.emit(t)
