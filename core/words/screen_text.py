"""Which sampled frames are worth reading for on-screen text, and merging what is read into timed lines."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .types import WRITTEN, WordLine

if TYPE_CHECKING:
    import numpy as np

# Frames are compared as 32x18 greyscale block means: grain and compression noise average out,
# while a lower third or a slate appearing moves its blocks by tens of levels.
GRID = (18, 32)
# A block whose mean moved by more than this (0-255 levels) means the picture changed. Measured on
# the generated 720p clips: a still noisy background moves no block by more than 0.1 between
# frames, a caption coming or going moves one by 22.8 or more, a slow pan by 15-19.
CHANGE_LEVELS = 12.0
# Frames this flat (greyscale standard deviation) hold no text: black, fades, flat colour.
FLAT_STD = 4.0
# Two readings are the same text when this similar (OCR misreads a letter now and then).
SAME_TEXT_RATIO = 0.8


def signature(rgb: np.ndarray) -> np.ndarray:
    """32x18 greyscale block means of an RGB frame (float32)."""
    import numpy as np

    grey: np.ndarray = rgb.astype(np.float32).mean(axis=2)
    gh, gw = GRID
    h, w = grey.shape
    hh, ww = max(1, h // gh), max(1, w // gw)
    crop = grey[: hh * gh, : ww * gw] if h >= gh and w >= gw else grey
    if crop.shape[0] < gh or crop.shape[1] < gw:  # tiny frames: compare them whole
        return crop
    blocks: np.ndarray = crop.reshape(gh, hh, gw, ww).mean(axis=(1, 3))
    return blocks


class FrameChooser:
    """Decides, frame by frame in time order, whether a sampled frame should be read.

    A frame is read when it differs from the last frame read (some block moved by more than
    CHANGE_LEVELS) or ``max_gap`` seconds passed, and never sooner than ``min_gap`` after the
    last read: a change during the gap is still pending and is read when the gap ends, because
    frames are compared with the last frame *read*, not with the previous sample.
    """

    def __init__(self, *, min_gap: float, max_gap: float, change_levels: float = CHANGE_LEVELS) -> None:
        self.min_gap = min_gap
        self.max_gap = max_gap
        self.change_levels = change_levels
        self._last_t: float | None = None
        self._last_sig: np.ndarray | None = None

    def should_read(self, t: float, rgb: np.ndarray) -> bool:
        import numpy as np

        if self._last_t is not None and t - self._last_t < self.min_gap - 1e-6:
            return False
        if float(rgb.std()) < FLAT_STD:
            return False
        sig = signature(rgb)
        due = self._last_t is None or self._last_sig is None or t - self._last_t >= self.max_gap - 1e-6
        if not due and self._last_sig is not None and sig.shape == self._last_sig.shape:
            due = float(np.abs(sig - self._last_sig).max()) > self.change_levels
        elif not due:
            due = True
        if due:
            self._last_t, self._last_sig = t, sig
        return due


def text_key(text: str) -> str:
    """What two readings must share to be the same text: letters and digits, case folded."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass
class _Open:
    text: str
    key: str
    start: float
    last: float
    scores: list[float] = field(default_factory=list)


class TextMerger:
    """Turns per-frame readings into lines: one line per text for as long as it stays on screen.

    A line starts at the first read frame that shows it and ends at the first read frame that
    does not (between two read frames the picture did not change, so the text stayed); at the
    end of the file it ends with the file.
    """

    def __init__(self) -> None:
        self._open: list[_Open] = []
        self._done: list[WordLine] = []

    def add(self, t: float, readings: list[tuple[str, float]]) -> None:
        seen: set[int] = set()
        for text, score in readings:
            key = text_key(text)
            if not key:
                continue
            match = self._match(key, seen)
            if match is None:
                self._open.append(_Open(text, key, t, t, [score]))
                seen.add(id(self._open[-1]))
            else:
                match.last = t
                match.scores.append(score)
                if score >= max(match.scores[:-1]):  # keep the reading the reader was surest of
                    match.text, match.key = text, key
                seen.add(id(match))
        for o in [o for o in self._open if id(o) not in seen]:
            self._close(o, t)

    def finish(self, end: float) -> list[WordLine]:
        for o in list(self._open):
            self._close(o, max(end, o.last))
        return sorted(self._done, key=lambda line: (line.start, line.text))

    def _match(self, key: str, seen: set[int]) -> _Open | None:
        best, best_ratio = None, SAME_TEXT_RATIO
        for o in self._open:
            if id(o) in seen:
                continue
            ratio = 1.0 if o.key == key else difflib.SequenceMatcher(None, o.key, key).ratio()
            if ratio >= best_ratio:
                best, best_ratio = o, ratio
        return best

    def _close(self, o: _Open, end: float) -> None:
        self._open.remove(o)
        conf = sum(o.scores) / len(o.scores)
        self._done.append(
            WordLine(start=round(o.start, 3), end=round(end, 3), text=o.text, source=WRITTEN, confidence=round(conf, 4))
        )
