"""What a result card shows about words: a badge per matched source and the matched words as a caption."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter

from reelseek.core.timecode import timecode
from reelseek.core.types import Moment

BADGE_COLOURS = {
    "seen": QColor("#4c6ef5"),
    "said": QColor("#2f9e44"),
    "written": QColor("#e8590c"),
    "subtitle": QColor("#ae3ec9"),
}
BADGE_TEXT = {"seen": "SEEN", "said": "SAID", "written": "WRITTEN", "subtitle": "SUB"}


def badge_labels(m: Moment) -> list[str]:
    return [BADGE_TEXT.get(s, s.upper()) for s in m.sources]


def caption(m: Moment) -> str:
    """The matched words, quoted, as the card shows them over the frame."""
    return " … ".join(f"“{text}”" for _a, _b, text, _s in m.words)


def tooltip(m: Moment) -> str:
    lines = [f"{timecode(a)}  {s}: {text}" for a, _b, text, s in m.words]
    return "\n".join(lines)


def paint(painter: QPainter, rect: QRect, m: Moment) -> None:
    """Badges top right of the thumbnail; the matched words along its bottom, like a subtitle."""
    font = QFont(painter.font())
    font.setPointSizeF(max(6.5, font.pointSizeF() * 0.75))
    font.setWeight(QFont.Weight.Bold)
    painter.setFont(font)
    fm = QFontMetrics(font)
    x = rect.right() - 5
    h = fm.height() + 2
    painter.setPen(Qt.PenStyle.NoPen)
    for source, label in reversed(list(zip(m.sources, badge_labels(m), strict=True))):
        w = fm.horizontalAdvance(label) + 8
        box = QRect(x - w, rect.top() + 5, w, h)
        painter.setBrush(BADGE_COLOURS.get(source, QColor("#666a73")))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        x -= w + 4
    text = caption(m)
    if not text:
        return
    font.setWeight(QFont.Weight.Normal)
    painter.setFont(font)
    band = QRect(rect.left(), rect.bottom() - 2 * h - 6, rect.width(), h + 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 180))
    painter.drawRect(band)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(
        band.adjusted(6, 0, -6, 0),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        fm.elidedText(text, Qt.TextElideMode.ElideRight, band.width() - 12),
    )
