"""More like this: search by a library moment's own stored frame vectors, refined by relevance feedback."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import store_collections
from .errors import LibraryError
from .feedback import ROCCHIO, Mark, Rocchio, normalise, refine
from .moments import edges_for
from .types import Filters, Moment, Query, SearchResult

if TYPE_CHECKING:
    from .library import Library
    from .store import Store

SHOT_REACH = 60.0  # seconds either side of a single time searched for the shot around it
_TIME = re.compile(r"^\d+(?:\.\d*)?$|^(?:\d+:){1,2}\d+(?:\.\d*)?$")
_EPS = 1e-3


class MomentNotFound(LibraryError):
    """The moment to search by is not in the library (unknown file, time outside it, not indexed)."""


@dataclass(frozen=True)
class MomentRef:
    """A moment named by the user: a file, and a range, a single time (the run of frames that
    look like it: the shot), or neither (the whole file)."""

    path: str
    start: float | None = None
    end: float | None = None

    @classmethod
    def of(cls, m: Moment | Mark) -> MomentRef:
        return cls(m.path, m.start, m.end)

    def describe(self) -> str:
        name = Path(self.path).name
        if self.start is None:
            return name
        if self.end is None or self.end == self.start:
            return f"{name} at {self.start:g} s"
        return f"{name} {self.start:g}–{self.end:g} s"


@dataclass(frozen=True)
class ResolvedMoment:
    """A moment found in the store: its file, exact range and normalised mean frame vector."""

    file_id: int
    path: str
    start: float
    end: float
    vector: np.ndarray

    def overlaps(self, m: Moment) -> bool:
        return m.file_id == self.file_id and min(m.end, self.end) > max(m.start, self.start) - _EPS


def parse_seconds(text: str) -> float:
    """Seconds from ``12.5``, ``1:30`` or ``01:02:03.5``."""
    text = text.strip()
    if not _TIME.match(text):
        raise ValueError(f"not a time: {text!r} (use seconds like 12.5, or 1:30)")
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def parse_moment(text: str, at: float | None = None) -> MomentRef:
    """``FILE@START-END``, ``FILE@TIME`` or ``FILE`` (``at`` gives the time separately).

    A file name may itself contain ``@``: only a last ``@`` followed by a valid time or range
    is read as one.
    """
    path, sep, when = text.rpartition("@")
    if sep and path:
        try:
            if "-" in when:
                a, b = when.split("-", 1)
                start, end = parse_seconds(a), parse_seconds(b)
                if end <= start:
                    raise MomentNotFound(f"{text}: the range ends ({end:g} s) before it starts ({start:g} s)")
            else:
                start = end = parse_seconds(when)
        except ValueError:
            path = text  # "take@home.mov": the @ is part of the name
        else:
            if at is not None:
                raise MomentNotFound(f"{text}: give the time either after @ or with --at, not both")
            return MomentRef(_absolute(path), start, end)
    return MomentRef(_absolute(text), at, at)


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def resolve(store: Store, model_id: str, ref: MomentRef) -> ResolvedMoment:
    """The moment's stored frames (never decoding the video), or a clear MomentNotFound."""
    row = store.file_by_path(ref.path)
    if row is None:
        hint = " (a moment inside a file is FILE@START-END, in seconds)" if "@" in Path(ref.path).name else ""
        raise MomentNotFound(f"not in the library: {ref.path}{hint} (add its folder and index it first)")
    dur = row.duration
    if ref.start is not None:
        hi = ref.end if ref.end is not None else ref.start
        if ref.start < 0 or hi > dur + 0.5:  # half a second of slack for a rounded-up end
            raise MomentNotFound(f"{ref.describe()} is outside {Path(ref.path).name}, which runs 0–{dur:g} s")
    lo, hi = (0.0, max(dur, 0.0)) if ref.start is None else (ref.start, ref.end if ref.end is not None else ref.start)
    point = ref.start is not None and hi - lo < _EPS
    reach = SHOT_REACH if point else 0.0
    segs = store.neighbour_segments(row.id, model_id, lo - reach - _EPS, hi + reach + _EPS)
    times = np.concatenate([s.times for s in segs]).astype(np.float64) if segs else np.zeros(0)
    if not len(times):
        raise MomentNotFound(
            f"{Path(ref.path).name} has no indexed frames there yet (status {row.status}): index it, then try again"
        )
    frames = np.concatenate([s.frames for s in segs if len(s.times)])
    if point:
        # Each frame stands for its cell inside its own segment (a segment edge is a cut).
        cells = [edges_for(seg.times.astype(np.float64), seg.start, seg.end) for seg in segs if len(seg.times)]
        starts = np.concatenate([c[:-1] for c in cells])
        ends = np.concatenate([c[1:] for c in cells])
        a, b = _shot_around(lo, times, frames)
        lo, hi = float(starts[a]), float(ends[b])
    inside = (times >= lo - _EPS) & (times <= hi + _EPS)
    if not inside.any():  # a range shorter than the sampling step: its nearest frame
        inside = np.zeros(len(times), dtype=bool)
        inside[int(np.argmin(np.abs(times - (lo + hi) / 2)))] = True
    vector = normalise(frames[inside].astype(np.float32).mean(axis=0))
    return ResolvedMoment(row.id, row.path, lo, hi, vector)


def _shot_around(t: float, times: np.ndarray, frames: np.ndarray) -> tuple[int, int]:
    """First and last index of the frames around time t that look like the frame at t: the shot a single time
    names. Segments are no guide (a short file is one segment whatever it shows).

    A neighbour belongs while it is closer to the frame at t than halfway between a perfect
    match and the typical frame nearby (capped at 0.9: a continuous shot stays whole).
    """
    f = frames.astype(np.float32)
    f /= np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-9)
    i = int(np.argmin(np.abs(times - t)))
    sims = f @ f[i]
    threshold = min(0.9, (1.0 + float(np.median(sims))) / 2)
    a = b = i
    while a > 0 and sims[a - 1] >= threshold:
        a -= 1
    while b + 1 < len(times) and sims[b + 1] >= threshold:
        b += 1
    return a, b


def base_vector(lib: Library, query: Query) -> np.ndarray:
    """The query's own vector (a text query's embedding comes from the searcher's cache)."""
    if query.is_empty():
        raise LibraryError("empty query: type a description, or drop an image or a clip")
    try:
        return lib.searcher().query_vector(query)
    except ValueError as e:
        raise LibraryError(str(e)) from e


def search_refined(
    lib: Library,
    q: np.ndarray,
    marks: Sequence[Mark | MomentRef] = (),
    *,
    limit: int = 20,
    filters: Filters | None = None,
    exclude: ResolvedMoment | None = None,
    weights: Rocchio = ROCCHIO,
) -> SearchResult:
    """Re-rank by ``q`` refined with the marks (Rocchio); only vector math and stored vectors.

    ``exclude`` (the more-like-this moment itself) is left out of the answer: the user is
    looking at it already, and as its own best match it would always top the list.
    """
    searcher = lib.searcher()
    lib.vector_index(searcher.model_id)  # follows another process's commits, in memory
    relevant: list[np.ndarray] = []
    irrelevant: list[np.ndarray] = []
    for mark in marks:
        value = mark.value if isinstance(mark, Mark) else 1
        vec = resolve(lib.store, searcher.model_id, MomentRef.of(mark) if isinstance(mark, Mark) else mark).vector
        (relevant if value > 0 else irrelevant).append(vec)
    q2 = refine(q, relevant, irrelevant, weights)
    extra = searcher.config.per_file if exclude is not None else 0
    result = searcher.search_vector(q2, limit=limit + extra, filters=filters)
    found = result.moments
    if marks or exclude is not None:
        # Feedback and more-like-this re-rank the list the user is working through: cutting its
        # tail at every mark would hide the very cards being judged (and "more like this" asks
        # for neighbours, ranked, not a verdict from the text-query calibration).
        found = sorted(found + result.more, key=lambda m: m.score, reverse=True)
        result.more = []
    moments = [m for m in found if exclude is None or not exclude.overlaps(m)][:limit]
    tcs = store_collections.source_timecodes(lib.store, [m.file_id for m in moments])
    result.moments = [replace(m, source_tc=tcs.get(m.file_id)) for m in moments]
    if marks or exclude is not None:
        # The user pointed at footage that is in the library (or is judging a list of it): its
        # likes are real matches, whatever the text-query calibration says of the vector's background.
        result.no_good_match = not result.moments
    return result


def search_like(
    lib: Library,
    ref: MomentRef,
    marks: Sequence[Mark | MomentRef] = (),
    *,
    limit: int = 20,
    filters: Filters | None = None,
) -> tuple[ResolvedMoment, SearchResult]:
    """More like this: the moment's own mean frame vector as the query, the moment left out."""
    searcher = lib.searcher()
    target = resolve(lib.store, searcher.model_id, ref)
    return target, search_refined(lib, target.vector, marks, limit=limit, filters=filters, exclude=target)
