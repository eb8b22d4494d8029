"""Paints a result as a card: the moment's best frame, file name, time range and score."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from reelseek.core.timecode import clock
from reelseek.core.types import Moment
from reelseek.desktop import theme
from reelseek.desktop.results import source_badges
from reelseek.desktop.results.model import ResultsModel

CARD_WIDTH = 232
THUMB_HEIGHT = 130  # 16:9 of the thumbnail area inside the card's padding
PAD = 8
TEXT_BLOCK = 60
THUMB_BUTTON = QSize(20, 16)  # relevance feedback buttons, right of the file name


def feedback_rects(card: QRect) -> tuple[QRect, QRect]:
    """Where a card (its option.rect) has its thumbs-up and thumbs-down buttons."""
    y = card.top() + PAD + THUMB_HEIGHT + 6
    right = card.right() - PAD
    down = QRect(right - THUMB_BUTTON.width(), y, THUMB_BUTTON.width(), THUMB_BUTTON.height())
    up = down.translated(-THUMB_BUTTON.width() - 3, 0)
    return up, down


class ResultCardDelegate(QStyledItemDelegate):
    """Fixed-size cards so the grid lays out without measuring text (uniform item sizes)."""

    mark_clicked = Signal(object, int)  # Moment, +1 (thumbs up) or -1 (thumbs down)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Smooth scaling on every repaint (hover, scroll) costs more than the rest of the card.
        self._scaled: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()

    def _fit(self, pixmap: QPixmap, size: QSize) -> QPixmap:
        key = (pixmap.cacheKey(), size.width(), size.height())
        scaled = self._scaled.get(key)
        if scaled is None:
            scaled = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            self._scaled[key] = scaled
            while len(self._scaled) > 300:
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return scaled

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        """A click on a thumb marks the moment (and does not select or play the card)."""
        if isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton:
            up, down = feedback_rects(option.rect)
            pos = event.position().toPoint()
            hit = 1 if up.contains(pos) else -1 if down.contains(pos) else 0
            if hit:
                if event.type() == QEvent.Type.MouseButtonRelease:
                    moment = index.data(ResultsModel.MomentRole)
                    if moment is not None:
                        self.mark_clicked.emit(moment, hit)
                return event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease)
        return super().editorEvent(event, model, option, index)

    def helpEvent(self, event, view, option, index):  # type: ignore[no-untyped-def]
        """The thumbs say what they do; elsewhere the card's own tooltip."""
        up, down = feedback_rects(option.rect)
        pos = event.pos()
        if up.contains(pos) or down.contains(pos):
            text = "Relevant: more like this (+)" if up.contains(pos) else "Not relevant (-)"
            QToolTip.showText(event.globalPos(), f"{text}\nclick again or Ctrl+Z to undo", view)
            return True
        return super().helpEvent(event, view, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(CARD_WIDTH, PAD + THUMB_HEIGHT + TEXT_BLOCK + PAD)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        moment: Moment | None = index.data(ResultsModel.MomentRole)
        if moment is None:
            return
        pixmap: QPixmap | None = index.data(ResultsModel.ThumbnailRole)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(option.rect).adjusted(3, 3, -3, -3)
        path = QPainterPath()
        path.addRoundedRect(card, 7, 7)
        painter.fillPath(path, theme.CARD_HOVER if hovered or selected else theme.CARD)
        if selected:
            painter.setPen(QPen(theme.ACCENT, 2))
            painter.drawPath(path)
        if option.state & QStyle.StateFlag.State_HasFocus:
            # The keyboard's card: a ring outside the selection border, visible on selected cards too.
            ring = QPainterPath()
            ring.addRoundedRect(QRectF(option.rect).adjusted(1, 1, -1, -1), 8, 8)
            painter.setPen(QPen(theme.RANGE, 2, Qt.PenStyle.DashLine))
            painter.drawPath(ring)

        thumb = thumb_rect(option.rect)
        self._paint_thumbnail(painter, thumb, pixmap, moment)
        range_text = str(index.data(ResultsModel.RangeTextRole) or "")
        source_badges.paint(painter, thumb, moment)  # seen / said / written / sub, and the matched words
        self._paint_text(painter, option, thumb, moment, str(index.data() or ""), range_text)
        self._paint_feedback(painter, option.rect, int(index.data(ResultsModel.MarkRole) or 0))
        self._paint_takes(painter, option, thumb, index)
        painter.restore()

    def _paint_feedback(self, painter: QPainter, card: QRect, mark: int) -> None:
        """Thumbs up / down; the marked one filled (green up, red down)."""
        up, down = feedback_rects(card)
        for rect, value, icon in ((up, 1, "arrow-up"), (down, -1, "arrow-down")):
            on = mark == value
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(
                (QColor("#2f9e55") if value > 0 else QColor("#c2413b")) if on else QColor(255, 255, 255, 18)
            )
            painter.drawRoundedRect(QRectF(rect), 3, 3)
            pix = theme.icon(icon).pixmap(QSize(12, 12))
            painter.setOpacity(1.0 if on else 0.55)
            painter.drawPixmap(rect.center().x() - 6, rect.center().y() - 6, pix)
            painter.setOpacity(1.0)

    def _paint_takes(
        self, painter: QPainter, option: QStyleOptionViewItem, thumb: QRect, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """The "4 takes" badge (click: show the other takes) or, on a shown take, which take it is."""
        count = int(index.data(ResultsModel.TakesRole) or 0)
        take = index.data(ResultsModel.TakeRole)
        if not count and not take:
            return
        font = badge_font(option.font)
        painter.setFont(font)
        if count:
            rect = takes_badge_rect(option.rect, option.font, count)
            text = takes_text(count, bool(index.data(ResultsModel.ExpandedRole)))
            painter.setBrush(theme.ACCENT)
        else:
            text = f"take {take[0]}/{take[1]}"
            fm = QFontMetrics(font)
            rect = QRect(
                thumb.left() + 5, thumb.bottom() - fm.height() - 7, fm.horizontalAdvance(text) + 12, fm.height() + 2
            )
            painter.setBrush(QColor(0, 0, 0, 170))
            # A strip down the left edge ties a shown take to the card it came from.
            painter.fillRect(QRect(option.rect.left() + 1, thumb.top(), 3, thumb.height()), theme.ACCENT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_thumbnail(self, painter: QPainter, rect: QRect, pixmap: QPixmap | None, m: Moment) -> None:
        painter.fillRect(rect, QColor("#0e0f11"))
        if pixmap is not None:
            scaled = self._fit(pixmap, rect.size())
            x = rect.left() + (rect.width() - scaled.width()) // 2
            y = rect.top() + (rect.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
        else:
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "offline" if m.offline else "…")
        # Length of the moment, bottom right, like a clip duration badge in a bin.
        badge_font = QFont(painter.font())
        badge_font.setPointSizeF(max(7.0, badge_font.pointSizeF() * 0.85))
        painter.setFont(badge_font)
        text = clock(m.end - m.start) if m.end - m.start >= 1 else f"{m.end - m.start:.1f}s"
        fm = QFontMetrics(badge_font)
        w, h = fm.horizontalAdvance(text) + 10, fm.height() + 2
        badge = QRect(rect.right() - w - 5, rect.bottom() - h - 5, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(badge, 3, 3)
        painter.setPen(QColor("#f0f1f3"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        if m.offline:
            painter.setBrush(theme.OFFLINE)
            painter.setPen(Qt.PenStyle.NoPen)
            off = QRect(rect.left() + 5, rect.top() + 5, fm.horizontalAdvance("OFFLINE") + 10, h)
            painter.drawRoundedRect(off, 3, 3)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(off, Qt.AlignmentFlag.AlignCenter, "OFFLINE")

    def _paint_text(
        self, painter: QPainter, option: QStyleOptionViewItem, thumb: QRect, m: Moment, name: str, range_text: str
    ) -> None:
        left = thumb.left()
        width = thumb.width()
        y = thumb.bottom() + 8
        name_font = QFont(option.font)
        name_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(name_font)
        fm = QFontMetrics(name_font)
        painter.setPen(theme.TEXT)
        painter.drawText(
            QRect(left, y, width, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(name, Qt.TextElideMode.ElideMiddle, width - 2 * THUMB_BUTTON.width() - 8),
        )
        y += fm.height() + 2

        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.82))
        painter.setFont(mono)
        mfm = QFontMetrics(mono)
        painter.setPen(theme.RANGE)
        painter.drawText(
            QRect(left, y, width, mfm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            mfm.elidedText(range_text, Qt.TextElideMode.ElideRight, width),
        )
        y += mfm.height() + 6

        # Confidence bar: calibrated 0..1, so its length means the same thing in every library.
        conf = min(1.0, max(0.0, m.confidence))
        bar = QRectF(left, y + 3, width * 0.55, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#33363e"))
        painter.drawRoundedRect(bar, 2, 2)
        painter.setBrush(theme.ACCENT)
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * conf, bar.height()), 2, 2)
        painter.setPen(theme.TEXT_DIM)
        painter.drawText(
            QRect(int(bar.right()) + 8, y - 3, width - int(bar.width()) - 8, mfm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            # One number: the calibrated confidence (the raw score is in the tooltip, in model units).
            f"{conf * 100:.0f}%",
        )


def thumb_rect(rect: QRect) -> QRect:
    """Where a card's thumbnail sits inside its item rectangle."""
    card = QRectF(rect).adjusted(3, 3, -3, -3)
    return QRect(int(card.left()) + PAD - 3, int(card.top()) + PAD - 3, int(card.width()) - 2 * PAD + 6, THUMB_HEIGHT)


def badge_font(font: QFont) -> QFont:
    f = QFont(font)
    f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
    return f


def takes_text(count: int, expanded: bool) -> str:
    return f"{count} takes {'▾' if expanded else '▸'}"


def takes_badge_rect(rect: QRect, font: QFont, count: int) -> QRect:
    """The clickable "N takes" badge of a card at `rect` (bottom left of its thumbnail); the view hit-tests it."""
    thumb = thumb_rect(rect)
    fm = QFontMetrics(badge_font(font))
    w, h = fm.horizontalAdvance(takes_text(count, True)) + 12, fm.height() + 2
    return QRect(thumb.left() + 5, thumb.bottom() - h - 5, w, h)
