"""The one shape every words source produces: a timed line of text with where it came from."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

# Where a line of words came from. The visual index is the fourth source, "seen".
SAID = "said"  # speech, transcribed
WRITTEN = "written"  # on-screen text, read by OCR
SUBTITLE = "subtitle"  # sidecar or embedded subtitle stream
SOURCES = (SAID, WRITTEN, SUBTITLE)


@dataclass(frozen=True)
class WordLine:
    """One line of words with its time range inside the file (seconds from the file's start).

    ``words`` holds per-word times when the source knows them (speech with word timestamps),
    each as (start, end, word); it is empty otherwise. ``confidence`` is the source's own
    0..1 confidence when it has one (speech: mean word probability; OCR: box score).
    """

    start: float
    end: float
    text: str
    source: str  # one of SOURCES
    language: str | None = None  # ISO 639-1 where known ("en", "ko")
    confidence: float | None = None
    words: tuple[tuple[float, float, str], ...] = ()


class WordSource(Protocol):
    """A producer of timed lines for one file. Sources never touch the store."""

    name: str  # one of SOURCES

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        """Every line this source finds in the file at ``path``; [] when it has none.

        Raises ``reelseek.core.media.MediaError`` (or a subclass of ``Exception`` with a
        readable message) when the file cannot be read; the caller records it as the
        file's words status and carries on.
        """
        ...
