"""The transcript beside the player: what was said, written and subtitled around the playhead; click seeks."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from reelseek.core.timecode import timecode
from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.library import Library
    from reelseek.core.store_words import LineHit
    from reelseek.core.types import Moment

SOURCE_LABELS = {"said": "said", "written": "written", "subtitle": "sub"}


class TranscriptPanelWidget(QWidget):
    """Lines of the playing file in time order; the one under the playhead is selected and kept
    in view, so the lines around it show. Clicking a line asks the player to seek to its start."""

    seek_requested = Signal(float)

    def __init__(self, library: Library | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._position: Callable[[], float] | None = None
        self._starts: list[float] = []
        self._file_id: int | None = None
        self.title = QLabel("Transcript")
        self.title.setObjectName("TranscriptTitle")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.itemClicked.connect(self._on_list_item_clicked)
        self.empty = QLabel("Nothing said, written or subtitled in this file (or its words are not read yet).")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty, 1)
        self.list.hide()
        # Reading a file's lines is one indexed query, but it still runs off the GUI thread.
        self._runner = TaskRunner("transcript", max_threads=1, parent=self)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- public ----------------------------------------------------------------------------------
    def follow(self, position: Callable[[], float]) -> None:
        """Track the playhead by polling ``position()`` (seconds) while lines are shown."""
        self._position = position

    def load_moment(self, moment: Moment) -> None:
        """Show the lines of the moment's file (read off the GUI thread)."""
        if self._library is None or moment.file_id == self._file_id:
            self.set_position(moment.start)
            return
        from reelseek.core.store_words import WordsStore

        lib, fid, start = self._library, moment.file_id, moment.start
        self._file_id = fid
        self._runner.cancel_queued()
        self._runner.run(
            lambda: WordsStore(lib.store).lines_of_file(fid),
            result=lambda lines: self._loaded(fid, lines, start),
            error=lambda exc: self.set_lines([]),
        )

    def set_lines(self, lines: Sequence[LineHit]) -> None:
        self.list.clear()
        self._starts = []
        for ln in lines:
            label = SOURCE_LABELS.get(ln.source, ln.source)
            item = QListWidgetItem(f"{timecode(ln.start)}  [{label}]  {ln.text}")
            item.setData(Qt.ItemDataRole.UserRole, float(ln.start))
            item.setToolTip(f"{timecode(ln.start)} – {timecode(ln.end)}  {ln.source}")
            self.list.addItem(item)
            self._starts.append(float(ln.start))
        self.list.setVisible(bool(lines))
        self.empty.setVisible(not lines)
        if lines and self._position is not None:
            self._timer.start()
        else:
            self._timer.stop()

    def set_position(self, seconds: float) -> None:
        """Select the last line that started at or before ``seconds`` and keep it in view."""
        if not self._starts:
            return
        row = max(0, bisect.bisect_right(self._starts, seconds + 1e-3) - 1)
        if self.list.currentRow() != row:
            self.list.setCurrentRow(row)
            self.list.scrollToItem(self.list.item(row), QListWidget.ScrollHint.PositionAtCenter)

    def current_text(self) -> str:
        item = self.list.currentItem()
        return item.text() if item is not None else ""

    def shutdown(self) -> None:
        self._timer.stop()
        self._runner.shutdown()

    # -- slots -----------------------------------------------------------------------------------
    def _loaded(self, file_id: int, lines: list[LineHit], start: float) -> None:
        if file_id != self._file_id:
            return  # another file was opened meanwhile
        self.set_lines(lines)
        self.set_position(start)

    @Slot(QListWidgetItem)
    def _on_list_item_clicked(self, item: QListWidgetItem) -> None:
        self.seek_requested.emit(float(item.data(Qt.ItemDataRole.UserRole)))

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._position is not None and self.isVisible():
            self.set_position(self._position())
