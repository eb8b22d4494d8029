"""Plain data objects shared by the engine, the CLI and the desktop client."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .media.timecode import SourceTimecode
from .timecode import SourceClock

# File status values stored in the `files` table.
PENDING = "pending"
INDEXING = "indexing"
DONE = "done"
ERROR = "error"
OFFLINE = "offline"
STATUSES = (PENDING, INDEXING, DONE, ERROR, OFFLINE)

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10 has no StrEnum: the same behaviour, str() and format() give the value

    class StrEnum(str, enum.Enum):
        def __str__(self) -> str:
            return str(self.value)


class IndexPhase(StrEnum):
    """What an index run is doing, as IndexProgress.phase reports it (the values are what is printed)."""

    SCANNING = "scanning"
    INDEXING = "indexing"
    WORDS = "words"  # the words pass after the visual one
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


FINAL_PHASES = frozenset({IndexPhase.FINISHED, IndexPhase.CANCELLED})  # the run is over: nothing is current


@dataclass(frozen=True)
class Filters:
    """Restrictions applied to search results (all optional)."""

    folders: tuple[str, ...] = ()  # only files under one of these folders
    min_duration: float | None = None  # seconds, of the whole file
    max_duration: float | None = None
    extensions: tuple[str, ...] = ()  # e.g. (".mp4", ".mov"), lower case with dot
    min_height: int | None = None  # resolution (display height, pixels)
    modified_after: float | None = None  # unix time of the file's mtime
    modified_before: float | None = None
    include_offline: bool = True


@dataclass(frozen=True)
class Query:
    """What the user is looking for.

    ``text`` may contain ``-term`` words (or ``-"two words"``) that push results away, weighted
    terms (``2:"red car"``) and ``then`` steps (core/query_syntax.py, docs/query-syntax.md).
    Images are stills (any Pillow-readable file); clips are short videos whose sampled
    frames are averaged. Weights scale each part; the combined vector is normalised.
    """

    text: str = ""
    images: tuple[Path, ...] = ()
    clips: tuple[Path, ...] = ()
    text_weight: float = 1.0
    image_weight: float = 1.0
    clip_weight: float = 1.0
    negative_weight: float = 0.5
    sources: tuple[str, ...] = ()  # seen / said / written / subtitle that may answer; () = all
    then_window: float = 10.0  # "A then B": most seconds from the end of A to the start of B (query_syntax.py)

    def is_empty(self) -> bool:
        return not (self.text.strip() or self.images or self.clips)


@dataclass(frozen=True)
class Moment:
    """One ranked result: a time range inside a file."""

    path: str
    file_id: int
    start: float  # seconds
    end: float  # seconds
    score: float  # raw similarity of the range (higher is better)
    best_time: float  # the single best-matching sampled frame inside the range
    confidence: float = 0.0  # calibrated 0..1 against the library's background scores
    offline: bool = False
    duration: float = 0.0  # of the whole file
    source_tc: SourceTimecode | None = None  # the file's start timecode and exact rate (Library.search fills it)
    sources: tuple[str, ...] = ("seen",)  # which of seen / said / written / subtitle matched
    # Matched words with their times: (start, end, text, source), in time order.
    words: tuple[tuple[float, float, str, str], ...] = ()
    # "A then B" queries: (start, end, confidence) of each step, in order; the moment covers them all.
    steps: tuple[tuple[float, float, float], ...] = ()
    # Other moments showing the same shot (re-encodes, trims, proxies, copies), best first; see core/takes.py.
    takes: tuple[Moment, ...] = ()

    @property
    def clock(self) -> SourceClock:
        """The file's clock: source timecode of any time inside it (00:00:00:00 start if untagged)."""
        return (self.source_tc or SourceTimecode()).clock

    @property
    def timecode_in(self) -> str:
        return self.clock.tc(self.start)

    @property
    def timecode_out(self) -> str:
        return self.clock.tc(self.end)

    def to_json(self) -> dict[str, object]:
        return {
            "timecode_in": self.timecode_in,
            "timecode_out": self.timecode_out,
            "rate": self.clock.rate.label,
            "start_tc": self.clock.start_tc,
            "path": self.path,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "score": round(self.score, 5),
            "confidence": round(self.confidence, 4),
            "best_time": round(self.best_time, 3),
            "offline": self.offline,
            "file_id": self.file_id,
            "sources": list(self.sources),
            "words": [{"start": round(a, 3), "end": round(b, 3), "text": t, "source": s} for a, b, t, s in self.words],
            "takes": [t.to_json() for t in self.takes],
        } | self._steps_json()

    def _steps_json(self) -> dict[str, object]:
        if not self.steps:
            return {}
        return {
            "steps": [{"start": round(a, 3), "end": round(b, 3), "confidence": round(c, 4)} for a, b, c in self.steps]
        }


@dataclass
class SearchResult:
    moments: list[Moment] = field(default_factory=list)
    no_good_match: bool = False  # True when even the best moment looks like background noise
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    more: list[Moment] = field(default_factory=list)  # the weak tail cut from `moments` (shown on demand)


@dataclass(frozen=True)
class IndexProgress:
    """A snapshot reported by the indexer through its progress callback."""

    files_done: int
    files_total: int
    current: str | None  # path of the file being embedded
    video_seconds_done: float
    video_seconds_total: float
    elapsed: float  # wall seconds since the run started
    errors: int = 0
    phase: IndexPhase = IndexPhase.INDEXING
    # Cluster runs: (node, video-seconds embedded per wall-second) for each node that answered.
    nodes: tuple[tuple[str, float], ...] = ()
    # While a new model is being indexed beside the old one: "new model X 43%" (core/model_switch.py).
    switch: str = ""

    @property
    def rate(self) -> float:
        """Video-seconds embedded per wall-second."""
        return self.video_seconds_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.rate <= 0:
            return None
        return max(0.0, (self.video_seconds_total - self.video_seconds_done) / self.rate)


@dataclass
class IndexReport:
    indexed: int = 0
    skipped: int = 0  # unchanged, already done
    moved: int = 0  # recognised by fingerprint, not re-embedded
    removed: int = 0  # deleted from disk
    offline: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    cancelled: bool = False
    video_seconds: float = 0.0
    elapsed: float = 0.0
    words_files: int = 0  # files whose words (subtitles, speech, on-screen text) were read this run
    words_lines: int = 0
    words_errors: list[tuple[str, str]] = field(default_factory=list)  # (path, "source: reason")
    workers_start_s: float = 0.0  # cluster runs: seconds until every worker had loaded the model


@dataclass
class LibraryStatus:
    counts: dict[str, int]
    errors: list[tuple[str, str]]
    folders: list[str]
    segments: int
    model_id: str | None
    words: dict[str, object] = field(default_factory=dict)  # see words.library_hooks.words_status
    calibration: dict[str, object] | None = None  # see calibration.Calibration.to_json
    models: dict[str, object] = field(default_factory=dict)  # see model_switch.ModelSwitch.to_json

    def to_json(self) -> dict[str, object]:
        return {
            "calibration": self.calibration,
            "counts": self.counts,
            "errors": [{"path": p, "error": e} for p, e in self.errors],
            "folders": self.folders,
            "segments": self.segments,
            "model": self.model_id,
            "words": self.words,
            "models": self.models,
        }
