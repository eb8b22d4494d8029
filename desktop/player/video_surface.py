"""VideoSurfaceWidget: where the picture goes, a native child window or a painted QImage."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from reelseek.desktop import theme


class VideoSurfaceWidget(QWidget):
    """Black letterboxed video area.

    Native mode: a native child window whose handle libvlc draws into; Qt must not paint over
    it while video runs, so only the idle placeholder is painted. Callback mode: paints the
    latest decoded frame scaled to fit.
    """

    def __init__(self, *, native: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VideoSurface")
        self._native = native
        self._frame: QImage | None = None
        self._message = "Double-click a result to play the moment"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 135)
        self.setAutoFillBackground(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        if native:
            # Its own window handle, without forcing every ancestor to become native too.
            self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
            self.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)

    def is_native(self) -> bool:
        return self._native

    def window_handle(self) -> int:
        return int(self.winId())

    def set_frame(self, image: QImage | None) -> None:
        self._frame = image
        self.update()

    def frame(self) -> QImage | None:
        return self._frame

    def set_message(self, text: str) -> None:
        """Text shown when there is no picture (idle, offline file, playback error)."""
        self._message = text
        if text:
            self._frame = None
        self.update()

    def message(self) -> str:
        return self._message

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0b0c0d"))
        if self._frame is not None and not self._frame.isNull():
            target = _fit(self._frame.width(), self._frame.height(), self.rect())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._frame)
        elif self._message:
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(
                self.rect().adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._message,
            )
        painter.end()


def _fit(w: int, h: int, area: QRect) -> QRect:
    scale = min(area.width() / max(1, w), area.height() / max(1, h))
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    return QRect(area.left() + (area.width() - tw) // 2, area.top() + (area.height() - th) // 2, tw, th)
