"""The CLI's one-line indexing progress bar, sized to the terminal it draws in."""

from __future__ import annotations

import os
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .timecode import timecode
from .types import FINAL_PHASES, IndexPhase, IndexProgress

_TTY_EVERY = 0.2  # seconds between redraws on a terminal
_LOG_EVERY = 5.0  # seconds between lines when stderr is a file or a pipe (CI logs stay short)
_MIN_NAME = 20  # cells kept for the file name before the optional fields give way


def cells(text: str) -> int:
    """Terminal cells `text` takes: wide East Asian characters take two, combining marks none."""
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def _clip_right(text: str, width: int) -> str:
    """The longest head of `text` that fits in `width` cells."""
    out, used = [], 0
    for ch in text:
        w = cells(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def clip_left(text: str, width: int, ellipsis: str = "…") -> str:
    """`text` cut from the left to fit `width` cells: the end of a file name says most about it."""
    if cells(text) <= width:
        return text
    room = width - cells(ellipsis)
    if room <= 0:
        return _clip_right(ellipsis, width)
    tail, used = [], 0
    for ch in reversed(text):
        w = cells(ch)
        if used + w > room:
            break
        tail.append(ch)
        used += w
    return ellipsis + "".join(reversed(tail))


def terminal_columns(stream: TextIO) -> int:
    """Columns of the terminal `stream` writes to, read now so a resized window is followed."""
    try:
        # The stream's own terminal first: stderr may be a terminal while stdout is piped.
        return os.get_terminal_size(stream.fileno()).columns or shutil.get_terminal_size().columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns


class ProgressBar:
    """One line on stderr: files, percentage, video-seconds per second, ETA, current file.

    On a terminal the line is redrawn in place with `\\r`, never wider than the terminal (so it
    never wraps onto a new line), the file name cut from the left to fit. Elsewhere it writes a
    full line every few seconds. `close()` ends the line once, also when indexing failed.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        columns: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self._columns = columns or (lambda: terminal_columns(self.stream))
        self._clock = clock
        self._last: float | None = None
        self._open = False  # a line is drawn without its newline yet
        self._done = False
        self._ellipsis = "…" if _encodes(self.stream, "…") else "..."

    def __call__(self, p: IndexProgress) -> None:
        if self._done:
            return
        now = self._clock()
        final = p.phase in FINAL_PHASES
        every = _TTY_EVERY if self.tty else _LOG_EVERY
        if not final and self._last is not None and now - self._last < every:
            return
        self._last = now
        if self.tty:
            # One cell short of the width: some terminals wrap as soon as the last column is written.
            width = max(1, self._columns() - 1)
            line = self.render(p, width)
            self.stream.write("\r" + line + " " * (width - cells(line)))
            self._open = True
        else:
            self.stream.write(self.render(p, None) + "\n")
        if final:
            self.close()
        self.stream.flush()

    def close(self) -> None:
        """End the drawn line with one newline, so what is printed next starts on its own line."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
        self._open = False
        self._done = True

    def render(self, p: IndexProgress, width: int | None) -> str:
        """The line for `p`, fitted to `width` cells (None: no limit)."""
        frac = min(1.0, p.video_seconds_done / p.video_seconds_total) if p.video_seconds_total else 0.0
        eta = p.eta
        bar_w = 24 if width is None else max(8, min(24, width // 6))
        fields = {
            "switch": p.switch,  # "new model X 43%": a switch is under way (searches use the old model)
            "bar": "[" + "#" * int(frac * bar_w) + "-" * (bar_w - int(frac * bar_w)) + "]",
            "files": f"{p.files_done}/{p.files_total} files",
            "pct": f"{frac * 100:3.0f}%",
            "rate": f"{p.rate:5.1f} video-s/s",
            "eta": "ETA " + (timecode(eta)[:8] if eta is not None else "--:--:--"),
            "nodes": "nodes:" + "".join(f" {n} {r:.1f}" for n, r in p.nodes) if p.nodes else "",
        }
        name = Path(p.current).name if p.current else ""
        tail = name if p.phase == IndexPhase.INDEXING else (f"{p.phase} {name}" if name else p.phase)
        # The fields that give way first on a narrow terminal, most dispensable first.
        for drop in (None, "nodes", "rate", "pct", "bar", "switch", "eta"):
            if drop:
                fields[drop] = ""
            head = "  ".join(v for v in fields.values() if v)
            if width is None or cells(head) + 2 + min(_MIN_NAME, cells(tail)) <= width:
                break
        if width is None:
            return f"{head}  {tail}" if tail else head
        head = _clip_right(head, width)
        room = width - cells(head) - 2
        if not tail or room < 1:
            return head
        return f"{head}  {clip_left(tail, room, self._ellipsis)}"


def _encodes(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
