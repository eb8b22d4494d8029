"""ResultsModel: the ranked moments of the current search, with lazily loaded thumbnails."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QPixmap

from reelseek.core.timecode import format_range
from reelseek.core.types import Moment

ThumbKey = tuple[str, float]
_Index = QModelIndex | QPersistentModelIndex

# Pixmaps kept across searches: re-running a similar query should not decode the same frames again.
THUMB_CACHE_ITEMS = 600
_MISSING = None  # cached "there is no thumbnail" (offline file): do not ask again


def thumb_key(m: Moment) -> ThumbKey:
    return (m.path, round(m.best_time, 2))


class ResultsModel(QAbstractListModel):
    """One row per Moment, best first.

    ``data(ThumbnailRole)`` answers from a cache; the first miss for a moment emits
    ``thumbnail_wanted(moment)`` so a loader can fetch it off the GUI thread and call
    :meth:`set_thumbnail`.
    """

    MomentRole = Qt.ItemDataRole.UserRole + 1
    ThumbnailRole = Qt.ItemDataRole.UserRole + 2
    ThumbnailPendingRole = Qt.ItemDataRole.UserRole + 3
    RangeTextRole = Qt.ItemDataRole.UserRole + 4  # "in – out" as the settings say (SMPTE or seconds)
    MarkRole = Qt.ItemDataRole.UserRole + 5  # relevance feedback: +1 thumbs up, -1 down, 0 none
    TakesRole = Qt.ItemDataRole.UserRole + 6  # a card's takes of its shot (itself included), 0 when alone
    TakeRole = Qt.ItemDataRole.UserRole + 7  # (n, of) on a shown take under its card, else None
    ExpandedRole = Qt.ItemDataRole.UserRole + 8  # whether the card's other takes are shown under it

    thumbnail_wanted = Signal(object)  # Moment

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._moments: list[Moment] = []  # the rows: cards, and under an expanded card its other takes
        self._take_of: dict[int, tuple[int, int]] = {}  # row of a shown take -> (n, of)
        self._expanded: set[int] = set()  # rows of cards whose takes are shown
        self._thumbs: OrderedDict[ThumbKey, QPixmap | None] = OrderedDict()
        self._pending: set[ThumbKey] = set()
        self._tc_mode = "smpte"
        self._mark_of: Callable[[Moment], int] = lambda _m: 0

    # --- content ----------------------------------------------------------------------------

    def set_moments(self, moments: Sequence[Moment]) -> None:
        self.beginResetModel()
        self._moments = list(moments)
        self._take_of.clear()
        self._expanded.clear()
        self._pending.clear()  # requests for the old list may never come back; ask again if needed
        self.endResetModel()

    def append_moments(self, moments: Sequence[Moment]) -> None:
        """Add moments at the end ("show more"): the cards already shown keep their place."""
        if not moments:
            return
        first = len(self._moments)
        self.beginInsertRows(QModelIndex(), first, first + len(moments) - 1)
        self._moments.extend(moments)
        self.endInsertRows()

    def set_timecode_mode(self, mode: str) -> None:
        """``smpte`` (the file's source timecode) or ``seconds``; repaints every card."""
        self._tc_mode = mode
        if self._moments:
            self.dataChanged.emit(self.index(0), self.index(len(self._moments) - 1), [self.RangeTextRole])

    def set_mark_source(self, mark_of: Callable[[Moment], int]) -> None:
        """Where the cards' thumbs come from (the search controller's marks); repaints them."""
        self._mark_of = mark_of
        if self._moments:
            self.dataChanged.emit(self.index(0), self.index(len(self._moments) - 1), [self.MarkRole])

    def range_text(self, m: Moment) -> str:
        return format_range(m.start, m.end, m.clock, self._tc_mode)

    def clear(self) -> None:
        self.set_moments([])

    def moments(self) -> list[Moment]:
        return list(self._moments)

    def moment(self, row: int) -> Moment | None:
        return self._moments[row] if 0 <= row < len(self._moments) else None

    # --- takes of one shot (core/takes.py groups them; a card shows its face) -------------------

    def is_expanded(self, row: int) -> bool:
        return row in self._expanded

    def toggle_takes(self, row: int) -> bool:
        """Show (or hide) a card's other takes as cards right after it; True when they are now shown."""
        m = self.moment(row)
        if m is None or not m.takes or row in self._take_of:
            return False
        n = len(m.takes)
        if row in self._expanded:
            self.beginRemoveRows(QModelIndex(), row + 1, row + n)
            del self._moments[row + 1 : row + 1 + n]
            self._shift(row, -n)
            self._expanded.discard(row)
            self.endRemoveRows()
        else:
            self.beginInsertRows(QModelIndex(), row + 1, row + n)
            self._shift(row, n)
            self._moments[row + 1 : row + 1] = list(m.takes)
            self._take_of.update({row + 1 + i: (i + 2, n + 1) for i in range(n)})
            self._expanded.add(row)
            self.endInsertRows()
        idx = self.index(row)
        self.dataChanged.emit(idx, idx, [self.ExpandedRole])
        return row in self._expanded

    def _shift(self, row: int, by: int) -> None:
        """Rows after a card's takes move when the takes are shown or hidden."""
        own = range(row + 1, row + 1 - by) if by < 0 else range(0)
        self._take_of = {(r + by if r > row else r): v for r, v in self._take_of.items() if r not in own}
        self._expanded = {r + by if r > row else r for r in self._expanded}

    def set_thumbnail(self, moment: Moment, pixmap: QPixmap | None) -> None:
        key = thumb_key(moment)
        self._pending.discard(key)
        self._thumbs[key] = pixmap if pixmap is not None and not pixmap.isNull() else _MISSING
        self._thumbs.move_to_end(key)
        while len(self._thumbs) > THUMB_CACHE_ITEMS:
            self._thumbs.popitem(last=False)
        for row, m in enumerate(self._moments):
            if thumb_key(m) == key:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [self.ThumbnailRole])

    def thumbnail(self, moment: Moment) -> QPixmap | None:
        return self._thumbs.get(thumb_key(moment))

    # --- Qt model API -----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._moments)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        m = self.moment(index.row()) if index.isValid() else None
        if m is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(m.path).name
        if role == Qt.ItemDataRole.ToolTipRole:
            state = " (offline)" if m.offline else ""
            from reelseek.desktop.results import source_badges

            words = source_badges.tooltip(m)
            base = (
                f"{m.path}{state}\n{self.range_text(m)} ({m.clock.rate.label} fps)\n"
                f"confidence {m.confidence * 100:.0f}%  ({'+'.join(m.sources)}; raw similarity {m.score:.3f})"
            )
            take = self._take_of.get(index.row())
            takes = f"\ntake {take[0]} of {take[1]} of the card before" if take else ""
            if m.takes and not take:
                takes = f"\n{len(m.takes) + 1} takes of this shot (click the badge to show them)"
            return base + (f"\n{words}" if words else "") + takes
        if role == self.RangeTextRole:
            return self.range_text(m)
        if role == self.MomentRole:
            return m
        if role == self.MarkRole:
            return self._mark_of(m)
        if role == self.TakesRole:
            return len(m.takes) + 1 if m.takes and index.row() not in self._take_of else 0
        if role == self.TakeRole:
            return self._take_of.get(index.row())
        if role == self.ExpandedRole:
            return index.row() in self._expanded
        if role == self.ThumbnailRole:
            return self._thumbnail_for(m)
        if role == self.ThumbnailPendingRole:
            return thumb_key(m) in self._pending
        return None

    def _thumbnail_for(self, m: Moment) -> QPixmap | None:
        key = thumb_key(m)
        if key in self._thumbs:
            self._thumbs.move_to_end(key)
            return self._thumbs[key]
        if key not in self._pending:
            self._pending.add(key)
            self.thumbnail_wanted.emit(m)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """File URLs, so a result dropped on an NLE, a file manager or a mail imports the file."""
        moments = [m for m in (self.moment(i.row()) for i in indexes if i.isValid()) if m is not None]
        paths = list(dict.fromkeys(m.path for m in moments))
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        mime.setText("\n".join(f"{m.path}\t{self.range_text(m)}" for m in moments))
        return mime
